"""The rule-change gate: what a change to the rules data does to the findings on the fixtures.

`cptlint impact --base REV` lints the same files twice, with the rules data (the built-in
rules/ when it is part of this repository, each `extend-rules` directory, `ptp-files` and
`mue-file`) as of git revision REV and as in the working tree, and reports the findings that
appear and disappear, per rule and per file.
"""

from __future__ import annotations

import io
import os
import subprocess
import tarfile
import tempfile
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path

from cptlint.config import Settings
from cptlint.data import rules_dir
from cptlint.diagnostics import Diagnostic
from cptlint.engine import Linter
from cptlint.store import Run
from cptlint.policy import load_policy


class ImpactError(Exception):
    pass


@dataclass
class Impact:
    base: str
    appeared: list[Diagnostic]
    disappeared: list[Diagnostic]

    @property
    def changed(self) -> bool:
        return bool(self.appeared or self.disappeared)

    def by(self, key) -> dict[str, tuple[int, int]]:
        """Counts of (appeared, disappeared) per rule code or per path."""
        up, down = Counter(map(key, self.appeared)), Counter(map(key, self.disappeared))
        return {k: (up[k], down[k]) for k in sorted(set(up) | set(down))}


def _git(cwd: Path, *args: str) -> bytes:
    try:
        return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True).stdout
    except FileNotFoundError:
        raise ImpactError("git is not installed") from None
    except subprocess.CalledProcessError as err:
        raise ImpactError(f"git {' '.join(args)}: {err.stderr.decode(errors='replace').strip()}") from None


def _at_revision(top: Path, revision: str, path: Path, into: Path) -> Path:
    """path (a file or directory of the repository) as it was at revision, written under into.
    A path git does not track (a virtualenv inside the repository holding the built-in rules)
    is the same at both revisions; a symbolic link in it is written as the file it leads to
    at that revision, which must be in the repository."""
    relative = path.resolve().relative_to(top).as_posix()
    target = into / relative
    listed = _git(top, "ls-tree", "-r", "--name-only", revision, "--", relative).decode().split("\n")
    if not any(listed):
        if not _git(top, "ls-files", "--", relative).strip():
            return path  # not tracked at all: not part of the change
        target.mkdir(parents=True, exist_ok=True)  # added since: at the base there was nothing
        return target
    archive = _git(top, "archive", "--format=tar", revision, "--", relative)
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        for member in tar.getmembers():
            destination = into / member.name
            if member.issym() or member.islnk():
                linked = os.path.normpath(os.path.join(os.path.dirname(member.name), member.linkname))
                if linked.startswith("..") or os.path.isabs(member.linkname):
                    raise ImpactError(f"{member.name} at {revision} is a link that leads outside the repository")
                destination.parent.mkdir(parents=True, exist_ok=True)
                destination.write_bytes(_git(top, "show", f"{revision}:{linked}"))
            elif member.isdir():
                destination.mkdir(parents=True, exist_ok=True)
            elif member.isfile():
                destination.parent.mkdir(parents=True, exist_ok=True)
                destination.write_bytes(tar.extractfile(member).read())
    return target


def measure(settings: Settings, revision: str, lint) -> Impact:
    """lint(linter) runs the same files under each policy and returns its Run."""
    top = Path(_git(settings.root, "rev-parse", "--show-toplevel").decode().strip()).resolve()
    _git(top, "rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}")

    def moved(path: Path | None, into: Path) -> Path | None:
        if path is None or top not in path.resolve().parents:
            return path  # outside the repository: the same at both revisions
        return _at_revision(top, revision, path, into)

    with tempfile.TemporaryDirectory(prefix="cptlint-impact-") as scratch:
        into = Path(scratch)
        base_settings = replace(
            settings,
            extend_rules=tuple(moved(p, into) for p in settings.extend_rules),
            mue_file=moved(settings.mue_file, into),
            ptp_files=tuple(moved(p, into) for p in settings.ptp_files),
        )
        base_policy = load_policy(
            base_settings.extend_rules, base_settings.mue_file, base_settings.ptp_files, builtin=moved(rules_dir(), into)
        )
        before: Run = lint(Linter(base_settings, policy=base_policy))
    after: Run = lint(Linter(settings))
    return Impact(revision, *_difference(before.diagnostics, after.diagnostics))


def _difference(before: list[Diagnostic], after: list[Diagnostic]):
    """(findings only after, findings only before), matched on path, code, pointer and message."""

    def minus(these: list[Diagnostic], those: list[Diagnostic]) -> list[Diagnostic]:
        left = Counter((d.path, d.code, d.pointer, d.message) for d in those)
        out = []
        for d in these:
            key = (d.path, d.code, d.pointer, d.message)
            if left[key] > 0:
                left[key] -= 1
            else:
                out.append(d)
        return out

    return minus(after, before), minus(before, after)
