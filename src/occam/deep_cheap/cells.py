"""The checkpoint of the trained grid: finished cells kept across an interrupted run.

A cell is one depth of the trained depth-width grid (every width, replicate and restart);
:func:`occam.deep_cheap.experiments.trained_depth_width` skips the cells it finds here.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from occam.deep_cheap.config import DeepCheapConfig
from occam.study import config_to_dict

__all__ = ["JsonCells", "fingerprint"]


class JsonCells:
    """Finished cells of the trained grid in a JSON file, rewritten atomically after each.

    The file records a fingerprint of the config and seed; a file written by another
    config is ignored (and overwritten), so a resumed run never mixes two grids.
    """

    def __init__(self, path: Path, fingerprint: str) -> None:
        self.path, self.fingerprint = path, fingerprint
        self.cells: dict[str, dict[str, Any]] = {}
        if path.is_file():
            try:
                saved = json.loads(path.read_text())
            except (OSError, ValueError):
                saved = {}
            if saved.get("fingerprint") == fingerprint:
                self.cells = dict(saved.get("cells", {}))

    def get(self, key: str) -> dict[str, Any] | None:
        return self.cells.get(key)

    def put(self, key: str, value: dict[str, Any]) -> None:
        self.cells[key] = value
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(json.dumps({"fingerprint": self.fingerprint, "cells": self.cells}))
        os.replace(tmp, self.path)


def fingerprint(config: DeepCheapConfig, seed: int) -> str:
    text = json.dumps({"seed": seed, "config": config_to_dict(config)}, sort_keys=True)
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()
