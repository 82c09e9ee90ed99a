"""How requests reach durable-rules: one engine thread runs every evaluation, in arrival order.

durable-rules keeps one process-wide table of sessions, has no locks and allows 1,024 live
sessions; `engine.durable` also holds a module lock around each run. Evaluation is CPU-bound
Python under the GIL around short C calls, so more threads would add contention, not throughput.
One thread also owns the Workspace (its cached programs and engine handles), so nothing in it is
ever shared. Requests wait in a bounded queue: past `max_pending` the service answers 503 at once,
and a request that waits and runs longer than `timeout` gets 503 (docs/server.md)."""
from __future__ import annotations

import asyncio
import concurrent.futures
from typing import Any, Callable, TypeVar

from eligibility.server.problems import ApiError

T = TypeVar("T")


class EngineThread:
    def __init__(self, max_pending: int, timeout: float):
        self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="engine")
        self.max_pending, self.timeout = max_pending, timeout
        self.pending = 0

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """`fn(*args)` on the engine thread; 503 when the queue is full or the time limit passes."""
        if self.pending >= self.max_pending:
            raise ApiError(503, "busy", detail=f"more than {self.max_pending} requests are waiting for the engine",
                           headers={"Retry-After": "1"})
        self.pending += 1
        future = self._pool.submit(fn, *args)
        try:
            return await asyncio.wait_for(asyncio.wrap_future(future), self.timeout)
        except asyncio.TimeoutError:
            future.cancel()                 # dropped if it has not started; a started run finishes
            raise ApiError(503, "timed out", detail=f"the request took longer than the limit of {self.timeout:g} s",
                           headers={"Retry-After": "1"}) from None
        finally:
            self.pending -= 1

    def call(self, fn: Callable[..., T], *args: Any) -> T:
        """`fn(*args)` on the engine thread, waiting for it (start-up and shut-down)."""
        return self._pool.submit(fn, *args).result()

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
