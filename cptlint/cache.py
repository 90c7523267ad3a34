"""The result cache, `.cptlint_cache/`: a file unchanged since the last run is not read again.

An entry is a file's own findings and encounters (day rules always run afresh over all of them),
keyed on the file's path and content, the settings, the rules data and the cptlint version, so
any of those changing is a miss. The directory carries a .gitignore of its own, so it is never
committed; a damaged entry is a miss, never an error.
"""

from __future__ import annotations

import hashlib
import os
import pickle
from functools import lru_cache
from pathlib import Path

from cptlint import __version__

DIRECTORY = ".cptlint_cache"


@lru_cache(maxsize=None)
def code_fingerprint() -> str:
    """The version, and the size and time of every module of cptlint: a checkout whose rule
    code was edited must not be served results of the code before the edit."""
    package = Path(__file__).resolve().parent
    stamp = [__version__]
    for module in sorted(package.rglob("*.py")):
        info = module.stat()
        stamp.append(f"{module.relative_to(package)}:{info.st_size}:{info.st_mtime_ns}")
    return hashlib.sha256("\n".join(stamp).encode()).hexdigest()


class Cache:
    def __init__(self, root: Path, salt: str):
        self.root = Path(root) / DIRECTORY / "v1"
        self.salt = salt + code_fingerprint()

    def key(self, path: str, content: bytes) -> str:
        digest = hashlib.sha256()
        for part in (self.salt.encode(), path.encode(), content):
            digest.update(len(part).to_bytes(8, "little") + part)
        return digest.hexdigest()

    def get(self, key: str):
        try:
            with open(self.root / key[:2] / key, "rb") as entry:
                return pickle.load(entry)
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError, IndexError, TypeError, ValueError):
            return None

    def put(self, key: str, value) -> None:
        folder = self.root / key[:2]
        try:
            if not self.root.exists():
                self.root.mkdir(parents=True)
                (self.root.parent / ".gitignore").write_text("# Created by cptlint.\n*\n")
                (self.root.parent / "CACHEDIR.TAG").write_text("Signature: 8a477f597d28d172789f06886806bc55\n# cptlint's cache\n")
            folder.mkdir(exist_ok=True)
            temporary = folder / f"{key}.{os.getpid()}"  # this process's own; replaced whole, so no reader sees half
            with open(temporary, "wb") as out:
                pickle.dump(value, out, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(temporary, folder / key)
        except OSError:
            pass  # a read-only checkout lints all the same
