from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from cptlint.config import Settings
from cptlint.engine import Linter, Source

pytest_plugins = ["pytester"]

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"

# A visit a payer would pay as it is: tests start from it and change one thing.
CLEAN_VISIT = """\
id: ENC-1
date: 2026-03-14
payer: medicare
patient: P-1
provider: {npi: "1234567893", discipline: PT}
diagnoses: [M54.50, M25.511]
services:
  - code: "97140"
    units: 2
    minutes: 30
    modifiers: [GP]
    regions: [cervical]
    techniques: [joint_mobilization, myofascial_release]
    diagnosis_pointers: [1]
    start: "09:00"
    end: "09:30"
    response: Cervical rotation improved 10 degrees
    goal: Turn head to check blind spot while driving
  - code: "97110"
    units: 1
    minutes: 15
    modifiers: [GP]
    diagnosis_pointers: [2]
    start: "09:30"
    end: "09:45"
"""


def lint(text: str, name: str = "enc.yaml", settings: Settings | None = None, **options):
    """Diagnostics for one in-memory file."""
    return lint_bytes(textwrap.dedent(text).encode(), name, settings or Settings(**options))


def lint_bytes(content: bytes, name: str, settings: Settings | None = None):
    """Diagnostics for one in-memory file given as its bytes (which need not be UTF-8)."""
    return Linter(settings or Settings()).run([Source(name, lambda: content)]).diagnostics


def lint_files(files: dict[str, str], **options):
    settings = Settings(**options)
    sources = [Source(name, (lambda t=text: textwrap.dedent(t).encode())) for name, text in files.items()]
    return Linter(settings).run(sources).diagnostics


def codes(diagnostics) -> list[str]:
    return [d.code for d in diagnostics]


@pytest.fixture
def clean_visit() -> str:
    return CLEAN_VISIT
