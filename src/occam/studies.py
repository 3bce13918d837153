"""The studies occam knows, by name. Each is imported only when it is used."""

from __future__ import annotations

import importlib
from typing import Any

from occam.study import Study

# name -> module holding a module-level ``STUDY``; the order is the report's order.
STUDY_MODULES: dict[str, str] = {
    "deep-cheap": "occam.deep_cheap.study",
    "sgd-bayes": "occam.sgd_bayes.study",
    "meta-bayes": "occam.meta_bayes.study",
    "imitation": "occam.imitation.study",
}


class UnknownStudyError(KeyError):
    def __str__(self) -> str:
        return str(self.args[0])


def names() -> list[str]:
    """Names of all studies, in report order."""
    return list(STUDY_MODULES)


def get(name: str) -> Study[Any]:
    """The study called ``name``; raises :class:`UnknownStudyError` for an unknown name."""
    if name not in STUDY_MODULES:
        raise UnknownStudyError(f"unknown study {name!r} (choose from {', '.join(STUDY_MODULES)})")
    module = importlib.import_module(STUDY_MODULES[name])
    study: Study[Any] = module.STUDY
    return study
