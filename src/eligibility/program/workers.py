"""Worker processes for `batch --jobs N`: units of work out, results back in input order.

With N jobs the main process starts N - 1 worker processes; each builds one batch.Worker (rules
compiled once, one durable engine) and evaluates the units it is sent, in the order sent. The
main process keeps every worker at most two units ahead, evaluates the next unit itself
whenever no worker's result is waiting (`run_units(..., here=True)`), and reads results as they
arrive (`multiprocessing.connection.wait`), putting them back in input order; no unit goes out
more than 8 units per job past the oldest unanswered one, so that one slow unit does not let
results pile up in memory.

Not `multiprocessing.Pool`: its two helper threads (one feeding tasks, one collecting results)
cost the parent about a second of CPU per 100,000 applicants, taken from the workers on a
two-core machine; here the parent has one thread and sends JSON Lines blocks without their
bytes (each worker reads its block from the file, checked against a CRC-32). A unit whose
message is larger than a pipe buffer is only sent to an idle worker: the parent never blocks
writing to a worker that is itself blocked writing a result. The parent may send a worker a
note about a result it made (where to write its output: program/heldpieces.py); notes are
small, and a failure while handling one is read at the latest when the workers stop. A worker
that dies (killed, or a crash in the engine's C code) ends the batch with an error naming its
exit code, never a hang.
"""
from __future__ import annotations

import ctypes
import os
import pickle
import signal
import sys
from collections import deque
from functools import partial
from typing import Any, Callable, Iterable, Iterator

from eligibility.core.errors import EngineError
from eligibility.program.inputs import Block, Unit

AHEAD = 2                    # units sent to a worker and not yet answered
WINDOW = 8                   # per job: how far past the oldest unanswered unit others may go
SMALL = 16 * 1024            # AHEAD messages this size fit in a pipe's buffer (64 KiB on Linux)
_STOP = b""


def forks() -> bool:
    """Whether worker processes are forked (and so share the parent's open files)."""
    import multiprocessing as mp
    return "fork" in mp.get_all_start_methods()


def run_units(units: Iterable[Unit], jobs: int, make_worker: Callable[[], Any], here: bool = False) -> Iterator[Any]:
    """The result of every unit, in order, computed by `jobs` workers, each running
    `make_worker()`'s `process` on the units it is given. Each worker is a process of its own
    (made there), except with `here`: then this process is one of the `jobs` (its worker made
    after the others have started) and takes the next unit itself whenever no other worker's
    result is waiting to be read.

    A result with a `bind_notes` method is given a function that sends a note back to the worker
    that made it: the worker's `note(payload)` receives it, in order with the units it is sent,
    and answers nothing. When this generator ends, every worker has handled all its notes and
    ended well, or the error is raised."""
    import multiprocessing as mp
    from multiprocessing.connection import wait

    ctx = mp.get_context("fork" if forks() else "spawn")
    conns, procs = [], []
    local = None
    try:
        for _ in range(jobs - 1 if here else jobs):
            parent_end, child_end = ctx.Pipe()
            # the worker closes the parent's ends it inherits (its own and its elders'): then the
            # parent's exit closes its pipe, and the worker sees the end of it
            proc = ctx.Process(target=_serve, args=(child_end, make_worker, [*conns, parent_end], os.getpid()),
                               daemon=True)
            proc.start()
            child_end.close()
            conns.append(parent_end)
            procs.append(proc)
        if here:
            local = make_worker()
        sent: list[deque[int]] = [deque() for _ in conns]         # unit numbers each worker process holds
        done: dict[int, Any] = {}
        source = enumerate(units)
        # the next unit to give out: (number, unit, its message once made) or None
        waiting: tuple[int, Any, bytes | None] | None = None
        exhausted, next_out = False, 0
        window = WINDOW * jobs           # units given out ahead of the first unanswered one, at most
        gone: set[int] = set()                                    # workers that can no longer be sent to

        def upcoming() -> tuple[int, Any, bytes | None] | None:
            """The next unit to give out, if there is one and the window lets it go."""
            nonlocal waiting, exhausted
            if waiting is None and not exhausted:
                item = next(source, None)
                if item is None:
                    exhausted = True
                else:
                    waiting = (item[0], item[1], None)
            if waiting is None or waiting[0] >= next_out + window:
                return None                                       # results held back would pile up
            return waiting

        def feed(w: int, depth: int) -> None:
            nonlocal waiting
            while len(sent[w]) < depth and (item := upcoming()) is not None:
                n, unit, message = item
                if message is None:
                    message = pickle.dumps(unit.light() if isinstance(unit, Block) else unit, pickle.HIGHEST_PROTOCOL)
                    waiting = (n, unit, message)
                if len(message) > SMALL and sent[w]:
                    return                                        # only to an idle worker
                if w not in gone:
                    try:
                        conns[w].send_bytes(message)
                    except OSError:      # it has stopped: what it sent before (an error) is read next
                        gone.add(w)
                sent[w].append(n)
                waiting = None

        while True:
            for depth in range(1, AHEAD + 1):    # one unit to every worker before a second to any
                for w in range(len(conns)):
                    feed(w, depth)
            busy = [c for w, c in enumerate(conns) if sent[w]]
            ready = wait(busy, 0) if busy and local is not None else []
            if local is not None and not ready and (item := upcoming()) is not None:
                waiting = None
                value = done[item[0]] = local.process(item[1])
                if hasattr(value, "bind_notes"):
                    value.bind_notes(local.note)
            elif not busy:               # nothing given out and unanswered: every unit is done
                break
            else:
                for conn in ready or wait(busy):
                    w = conns.index(conn)
                    value = done[sent[w].popleft()] = _answer(conn, procs[w])
                    if hasattr(value, "bind_notes"):
                        value.bind_notes(partial(_send_note, conn))
            while next_out in done:
                yield done.pop(next_out)
                next_out += 1
        for conn in conns:
            try:
                conn.send_bytes(_STOP)
            except OSError:          # already stopped, after its last result
                pass
        for conn, proc in zip(conns, procs):
            _drain(conn, proc)       # an error from its last notes, or how it ended
    finally:
        for proc in procs:
            if proc.is_alive():
                proc.terminate()
                proc.join()
        for conn in conns:
            conn.close()
        if local is not None:
            local.close()


_PR_SET_PDEATHSIG = 1


def bind_to_parent(parent: int) -> None:
    """Make this worker process die with its parent: on Linux the kernel sends SIGKILL when the
    parent exits (prctl PR_SET_PDEATHSIG); elsewhere the closed pipe ends it at its next read.
    Signals that the parent handles get their default action here (the outputs are the parent's)."""
    for sig in (signal.SIGTERM, getattr(signal, "SIGHUP", None)):
        if sig is not None:
            signal.signal(sig, signal.SIG_DFL)
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):
            pass
    if parent and os.getppid() != parent:      # the parent died before the line above
        os._exit(1)


class _Note:
    def __init__(self, payload: Any):
        self.payload = payload


def _send_note(conn: Any, payload: Any) -> None:
    try:
        conn.send_bytes(pickle.dumps(_Note(payload), pickle.HIGHEST_PROTOCOL))
    except OSError:          # it has stopped: its error, or its exit code, is read when it is next waited for
        pass


def _drain(conn: Any, proc: Any) -> None:
    """Wait for a stopped worker to close its pipe and end; raise the error it sent, if any, or
    the error of a worker that did not end well (killed before it wrote what it held)."""
    while True:
        try:
            message = conn.recv_bytes()
        except (EOFError, OSError):
            break
        status, value = pickle.loads(message)
        if status == "error":
            raise value
    proc.join()
    if proc.exitcode != 0:
        raise _stopped(proc)


def _answer(conn: Any, proc: Any) -> Any:
    try:
        status, value = pickle.loads(conn.recv_bytes())
    except (EOFError, OSError):
        proc.join(5)
        raise _stopped(proc) from None
    if status == "error":
        raise value
    return value


def _stopped(proc: Any) -> EngineError:
    return EngineError(f"a worker process stopped (exit code {proc.exitcode}); "
                       "the batch cannot go on, and no output was written")


def _serve(conn: Any, make_worker: Callable[[], Any], inherited: list[Any] = (), parent: int = 0) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)       # Ctrl-C is the parent's to handle
    bind_to_parent(parent)
    for other in inherited:
        other.close()
    worker = None
    try:
        worker = make_worker()
        while True:
            message = conn.recv_bytes()
            if message == _STOP:
                return
            item = pickle.loads(message)
            if isinstance(item, _Note):
                worker.note(item.payload)
                continue
            conn.send_bytes(pickle.dumps(("ok", worker.process(item)), pickle.HIGHEST_PROTOCOL))
    except BaseException as exc:       # sent to the parent, which raises it
        try:
            reply = pickle.dumps(("error", exc), pickle.HIGHEST_PROTOCOL)
            pickle.loads(reply)
        except Exception:
            reply = pickle.dumps(("error", EngineError(f"{type(exc).__name__}: {exc}")), pickle.HIGHEST_PROTOCOL)
        try:
            conn.send_bytes(reply)
        except OSError:
            pass
    finally:
        if worker is not None:
            worker.close()
        conn.close()
