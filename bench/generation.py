"""Synthetic-generation throughput and losses against a fake OpenAI-compatible server.

usage: python -m bench.generation [--n 200] [--concurrency 8] [--latency 0.3] [--fault-rate 0.15]
Starts `bench.fake_openai.FakeOpenAI` on 127.0.0.1 itself and runs `generate_examples` twice:
clean (throughput against the ideal concurrency / latency) and with faults spread over 429
(with and without Retry-After), 500, timeouts, truncated bodies and invalid JSON. Prints one JSON
line: examples/s, ideal, ratio, LLM calls per kept example, and rows lost (= asked - kept -
rows dropped with a counted reason; must be 0). The second pass of each scenario reruns the same
generation on the reply cache: `rerun_calls` must be 0.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path


def scenario(args: argparse.Namespace, faults: dict[str, float]) -> dict:
    from p2m.llm.cache import ResponseCache
    from p2m.llm.openai_llm import OpenAILLM
    from bench.fake_openai import FakeOpenAI
    from p2m.core.schemas import TaskSpec
    from p2m.tools.generation.generate import generate_examples

    task = TaskSpec(instruction="Classify the sentiment of a product review.",
                    labels=["negative", "positive"])
    with FakeOpenAI(latency=args.latency, faults=faults, seed=1, timeout_sleep=2.5) as server, \
            tempfile.TemporaryDirectory() as tmp:
        cache = ResponseCache(Path(tmp) / "cache.sqlite")
        llm = OpenAILLM("fake", base_url=server.base_url, api_key="sk-bench", timeout=1.5,
                        cache=cache, retry_max_wait=2.0, retry_attempts=8)
        started = time.perf_counter()
        result = generate_examples(task, llm, args.n, existing=[], concurrency=args.concurrency)
        wall = time.perf_counter() - started
        calls = llm.usage.calls
        again = generate_examples(task, llm, args.n, existing=[], concurrency=args.concurrency)
        dropped = sum(result.dropped.values())
        return {
            "examples_per_s": round(len(result.kept) / wall, 2),
            "ideal_per_s": round(args.concurrency / args.latency, 2),
            "ratio": round(len(result.kept) / wall / (args.concurrency / args.latency), 3),
            "asked": args.n, "kept": len(result.kept), "dropped": result.dropped,
            "rows_lost": args.n - len(result.kept) - dropped,
            "llm_calls": calls, "calls_per_kept": round(calls / max(1, len(result.kept)), 3),
            "faults_injected": dict(server.injected), "faults_seen": dict(llm.usage.faults),
            "retries": llm.usage.retries, "max_in_flight": server.max_in_flight,
            "rerun_calls": llm.usage.calls - calls, "rerun_kept": len(again.kept),
            "wall_s": round(wall, 2),
        }


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--latency", type=float, default=0.3)
    ap.add_argument("--fault-rate", type=float, default=0.15)
    args = ap.parse_args()
    from p2m.tools.encoders.embed import embed

    embed(["warm up"])  # the embedder loads once per process; not part of generation throughput
    kinds = ("rate_limit", "rate_limit_retry_after", "server_error", "timeout", "truncated",
             "invalid_json")
    faults = {k: args.fault_rate / len(kinds) for k in kinds}
    out = {"n": args.n, "concurrency": args.concurrency, "latency_s": args.latency,
           "clean": scenario(args, {}), "faults": scenario(args, faults)}
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
