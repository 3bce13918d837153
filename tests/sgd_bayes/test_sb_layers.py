"""The study's layers: importing it changes no global state, and the layers import downwards."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import occam

SRC = Path(occam.__file__).resolve().parents[1]


def test_import_leaves_the_backend_and_threads_alone():
    code = (
        "import matplotlib, torch; torch.set_num_threads(3);"
        "import occam.sgd_bayes.study, occam.sgd_bayes.figures, sys;"
        "assert matplotlib.get_backend().lower() == 'svg', matplotlib.get_backend();"
        "assert torch.get_num_threads() == 3;"
        "assert 'matplotlib.pyplot' not in sys.modules"
    )
    env = {"MPLBACKEND": "svg", "PYTHONPATH": str(SRC), "PATH": "/usr/bin:/bin"}
    subprocess.run([sys.executable, "-c", code], check=True, env=env)


def test_the_maths_does_not_import_the_study_layers():
    """nngp/ep/pb/exact are the bottom layer; config, figures and study sit above them."""
    code = (
        "import sys, occam.sgd_bayes.arch, occam.sgd_bayes.pb, occam.sgd_bayes.exact;"
        "bad = [m for m in ('occam.sgd_bayes.study', 'occam.sgd_bayes.figures', "
        "'occam.sgd_bayes.config', 'matplotlib') if m in sys.modules];"
        "assert not bad, bad"
    )
    env = {"PYTHONPATH": str(SRC), "PATH": "/usr/bin:/bin"}
    subprocess.run([sys.executable, "-c", code], check=True, env=env)
