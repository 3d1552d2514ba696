"""Run blocking LLM jobs concurrently on an asyncio loop, under a concurrency cap and an RPM limit."""
from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Optional, Sequence, TypeVar

J = TypeVar("J")
R = TypeVar("R")


async def gather_limited(fn: Callable[[J], R], jobs: Sequence[J], concurrency: int = 4,
                         rpm: Optional[float] = None) -> list[R]:
    """`fn(job)` for every job, at most `concurrency` at once and `rpm` starts per minute.

    `fn` is a blocking call (our LLM layer, with its cache, retries and accounting), run in
    worker threads; results come back in job order.
    """
    from aiolimiter import AsyncLimiter

    gate = asyncio.Semaphore(max(1, concurrency))
    # max_rate=1 per 60/rpm seconds: no burst, starts spaced evenly.
    limiter = AsyncLimiter(1, 60.0 / rpm) if rpm else None
    loop = asyncio.get_running_loop()
    # Our own pool: asyncio's default one has only cpu_count + 4 threads.
    with ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="p2m-llm") as pool:

        async def one(job: J) -> R:
            async with gate:
                if limiter is not None:
                    await limiter.acquire()
                return await loop.run_in_executor(pool, fn, job)

        return list(await asyncio.gather(*(one(job) for job in jobs)))


def run_limited(fn: Callable[[J], R], jobs: Sequence[J], concurrency: int = 4,
                rpm: Optional[float] = None) -> list[R]:
    """Synchronous entry point; works whether or not the calling thread already runs a loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(gather_limited(fn, jobs, concurrency, rpm))
    box: dict[str, Any] = {}

    def runner() -> None:  # a loop is running here (e.g. inside Gradio): use a fresh thread
        try:
            box["out"] = asyncio.run(gather_limited(fn, jobs, concurrency, rpm))
        except BaseException as exc:  # re-raised in the caller's thread
            box["err"] = exc

    thread = threading.Thread(target=runner)
    thread.start()
    thread.join()
    if "err" in box:
        raise box["err"]
    return box["out"]
