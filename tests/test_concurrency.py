"""Concurrent LLM jobs: order kept, concurrency capped, requests-per-minute respected."""
from __future__ import annotations

import asyncio
import threading
import time

from p2m.llm.concurrency import run_limited


def test_results_in_job_order_and_concurrency_capped():
    lock, state = threading.Lock(), {"now": 0, "peak": 0}

    def job(x: int) -> int:
        with lock:
            state["now"] += 1
            state["peak"] = max(state["peak"], state["now"])
        time.sleep(0.05)
        with lock:
            state["now"] -= 1
        return x * x

    assert run_limited(job, list(range(12)), concurrency=3) == [x * x for x in range(12)]
    assert state["peak"] == 3


def test_requests_per_minute_spaces_the_starts():
    starts: list[float] = []
    run_limited(lambda x: starts.append(time.perf_counter()), range(4), concurrency=4, rpm=600)
    gaps = [b - a for a, b in zip(sorted(starts), sorted(starts)[1:])]
    assert min(gaps) >= 0.08  # 600 rpm = one start per 0.1 s


def test_works_inside_a_running_event_loop():
    async def inside() -> list[int]:
        return run_limited(lambda x: x + 1, [1, 2, 3], concurrency=2)

    assert asyncio.run(inside()) == [2, 3, 4]
