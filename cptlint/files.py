"""Writing a file so that it is never half written: a temporary file in the same directory,
flushed to disk, given the original's mode, then renamed over it. A kill or a full disk leaves
the file as it was, or as it is meant to be; never a truncated one."""

from __future__ import annotations

import os
import stat
import tempfile
from contextlib import contextmanager


def write_atomic(path: str | os.PathLike, data: bytes) -> None:
    """Replace path with data (see replaced)."""
    with replaced(path) as out:
        out.write(data)


@contextmanager
def replaced(path: str | os.PathLike):
    """A binary stream whose bytes replace path when the block ends without an error. A
    symbolic link is written through to its target (the link stays a link); callers decide
    beforehand whether that target may be written. Something that is not a regular file
    (/dev/null, a pipe, a terminal) is written to as it is: it is never replaced."""
    target = os.path.realpath(path)
    try:
        special = not stat.S_ISREG(os.stat(target).st_mode)
    except FileNotFoundError:
        special = False
    if special:
        with open(target, "wb") as out:
            yield out
        return
    directory = os.path.dirname(target) or "."
    try:
        mode = stat.S_IMODE(os.stat(target).st_mode)
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    descriptor, temporary = tempfile.mkstemp(dir=directory, prefix=f".{os.path.basename(target)}.", suffix=".cptlint-tmp")
    try:
        with os.fdopen(descriptor, "wb") as out:
            yield out
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, target)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise
