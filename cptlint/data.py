"""Where the bundled schemas and policy data are: inside an installed wheel, or at the top of a checkout."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

_HERE = Path(__file__).resolve().parent


def data_root() -> Path:
    bundled = _HERE / "data"
    return bundled if bundled.is_dir() else _HERE.parent


def rules_dir() -> Path:
    return data_root() / "rules"


def schema_path(name: str) -> Path:
    return data_root() / "schemas" / name


@lru_cache(maxsize=None)
def schema(name: str) -> dict:
    return json.loads(schema_path(name).read_text(encoding="utf-8"))
