"""Writing output files whole or not at all."""
from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from typing import IO, Iterator

from eligibility.core.errors import InputError, Problem


@contextlib.contextmanager
def atomic_writer(path: str | None) -> Iterator[IO[str]]:
    """Yield a text stream; for a file, write a temporary sibling and rename it into place on success.

    On any exception (including Ctrl-C) the temporary file is removed and `path` is untouched."""
    if path in (None, "-"):
        yield sys.stdout
        sys.stdout.flush()
        return
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise InputError(Problem(path, 0, 0, "cannot write output: the directory does not exist"))
    if os.path.isdir(path):
        raise InputError(Problem(path, 0, 0, "cannot write output: it is a directory"))
    try:
        fd, tmp = tempfile.mkstemp(prefix=".eligibility-", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise InputError(Problem(path, 0, 0, f"cannot write output: {exc.strerror or exc}")) from None
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)          # mkstemp makes 0600; give the file the usual mode
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.replace(tmp, path)
        except OSError as exc:
            raise InputError(Problem(path, 0, 0, f"cannot write output: {exc.strerror or exc}")) from None
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_atomic(path: str | None, text: str) -> None:
    with atomic_writer(path) as fh:
        fh.write(text)
