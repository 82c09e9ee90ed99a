"""Output targets: files written whole or not at all, streams, and what happens when writing fails.

* A regular file (or a path that does not exist yet) is written to a temporary sibling and renamed
  into place on success. A symlink is followed: the file it points to is replaced, the link stays.
* A character device or a FIFO (`/dev/null`, `/dev/stdout`, a named pipe) is written directly:
  it is a stream, never replaced by a regular file.
* Anything else that is not a regular file (a directory, a block device, a socket) is refused.
* Temporary files are removed on any exception (Ctrl-C included) and, through `on_signal`, on
  SIGTERM and SIGHUP.
* A write that fails (disk full, file too large) is an `OutputError`: one line naming the target,
  exit 2. A closed pipe is `OutputClosed`, which the command line ends quietly.
"""
from __future__ import annotations

import contextlib
import os
import signal
import stat
import sys
import tempfile
from typing import IO, Any, Iterator

from eligibility.core.errors import InputError, OutputError, Problem

try:
    import fcntl
except ImportError:                   # Windows has no fcntl: no output's places are reserved there
    fcntl = None  # type: ignore[assignment]

_pending: set[str] = set()            # temporary files not yet renamed into place
_UTF8 = ("utf-8", "utf8")


class OutputClosed(BaseException):
    """The reader of a pipe went away (EPIPE). Not an Exception: nothing on the way catches it."""


class Terminated(BaseException):
    """SIGTERM or SIGHUP arrived; raised so that the run unwinds and cleans up as on Ctrl-C."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


class Guarded:
    """A text stream whose write errors become OutputError or OutputClosed."""

    def __init__(self, stream: IO[str], target: str):
        self._stream, self._target = stream, target

    @property
    def target(self) -> str:
        """The output's name, as errors give it."""
        return self._target

    def _fail(self, exc: OSError) -> BaseException:
        return OutputClosed() if isinstance(exc, BrokenPipeError) else OutputError(self._target, exc)

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except OSError as exc:
            raise self._fail(exc) from None

    def positional(self) -> int | None:
        """The file descriptor, when this is a regular UTF-8 file (not opened to append: a shell's
        `>` redirection qualifies, `>>` does not) whose places can be reserved (`reserve`) and
        written by others at those offsets."""
        stream = self._stream
        try:
            if (stream.encoding or "").lower() not in _UTF8 or not stream.seekable():
                return None
            fd = stream.fileno()
            mode = os.fstat(fd).st_mode
        except (AttributeError, OSError, ValueError):    # a stream in memory (io.StringIO, a test's capture)
            return None
        if not stat.S_ISREG(mode) or fcntl is None or fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_APPEND:
            return None
        return fd

    def reserve(self, count: int) -> int:
        """Leave `count` bytes after what is written so far, for another writer; where they start."""
        self.flush()
        try:
            raw = self._stream.buffer
            start = raw.tell()
            raw.seek(start + count)
        except OSError as exc:
            raise self._fail(exc) from None
        return start

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        try:
            self._stream.flush()
        except OSError as exc:
            raise self._fail(exc) from None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def _remove_pending() -> None:
    for tmp in list(_pending):
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        _pending.discard(tmp)


def _on_signal(signum: int, frame: Any) -> None:
    _remove_pending()        # first, in case unwinding is cut short
    raise Terminated(signum)


def on_signal() -> None:
    """Make SIGTERM and SIGHUP remove temporary outputs and raise Terminated (call once, at start)."""
    for sig in (signal.SIGTERM, getattr(signal, "SIGHUP", None)):
        if sig is not None:
            signal.signal(sig, _on_signal)


def _kind(path: str) -> str:
    """"file" (regular, or absent), "stream" (character device, FIFO) or why it is refused."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return "file"
    except OSError as exc:
        return f"cannot write output: {exc.strerror or exc}"
    if stat.S_ISREG(mode):
        return "file"
    if stat.S_ISCHR(mode) or stat.S_ISFIFO(mode):
        return "stream"
    if stat.S_ISDIR(mode):
        return "cannot write output: it is a directory"
    return "cannot write output: not a regular file, a character device or a pipe"


@contextlib.contextmanager
def atomic_writer(path: str | None) -> Iterator[IO[str]]:
    """Yield a text stream for `path` (see the module docstring); None or "-" is stdout."""
    if path in (None, "-"):
        out = Guarded(sys.stdout, "<stdout>")
        yield out  # type: ignore[misc]
        out.flush()
        return
    kind = _kind(path)
    if kind == "stream":
        try:
            raw = open(path, "w", encoding="utf-8", newline="")
        except OSError as exc:
            raise InputError(Problem(path, 0, 0, f"cannot write output: {exc.strerror or exc}")) from None
        try:
            out = Guarded(raw, path)
            yield out  # type: ignore[misc]
            out.flush()
        finally:
            with contextlib.suppress(OSError):
                raw.close()
        return
    if kind != "file":
        raise InputError(Problem(path, 0, 0, kind))
    target = os.path.realpath(path)
    directory = os.path.dirname(target)
    if not os.path.isdir(directory):
        raise InputError(Problem(path, 0, 0, "cannot write output: the directory does not exist"))
    try:
        fd, tmp = tempfile.mkstemp(prefix=".eligibility-", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise InputError(Problem(path, 0, 0, f"cannot write output: {exc.strerror or exc}")) from None
    _pending.add(tmp)
    umask = os.umask(0)
    os.umask(umask)
    try:
        os.chmod(tmp, 0o666 & ~umask)          # mkstemp makes 0600; give the file the usual mode
        fh = os.fdopen(fd, "w", encoding="utf-8", newline="")
        try:
            out = Guarded(fh, path)
            yield out  # type: ignore[misc]
            out.flush()
            try:
                os.fsync(fh.fileno())
            except OSError as exc:
                raise OutputError(path, exc) from None
        finally:
            with contextlib.suppress(OSError):     # after a failed write, closing fails the same way
                fh.close()
        try:
            os.replace(tmp, target)
        except OSError as exc:
            raise InputError(Problem(path, 0, 0, f"cannot write output: {exc.strerror or exc}")) from None
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    finally:
        _pending.discard(tmp)


def write_atomic(path: str | None, text: str) -> None:
    with atomic_writer(path) as fh:
        fh.write(text)
