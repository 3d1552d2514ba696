"""Rows per second of a run's published model alone, its teacher alone and the cascade (the
model answering above its fitted threshold, the teacher the rest), on the same texts.

    python -m bench.cascade_throughput RUN ../shared/datasets/sst2/test.jsonl [--n 200] [--teacher-n 50]

The teacher is timed on `--teacher-n` of the texts (it is the slow part); the cascade is run
for real on all `--n` (`p2m predict`'s path). One JSON line, appended to
bench/results/cascade_throughput.jsonl.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from bench.record import append, commit  # noqa: E402
from p2m.llm.factory import make_llm  # noqa: E402
from p2m.predict import predict_texts  # noqa: E402
from p2m.runfolder.rundir import RunDir  # noqa: E402
from p2m.runfolder.data_store import read_jsonl  # noqa: E402
from p2m.tools.scoring.predictions import teacher_predict  # noqa: E402


def rate(n: int, seconds: float) -> float:
    return round(n / seconds, 3) if seconds > 0 else float("inf")


def measure(run_dir: Path, texts: list[str], teacher_n: int, teacher: object) -> dict:
    run = RunDir(run_dir).require()
    started = time.perf_counter()
    predict_texts(run_dir, texts, fallback=False)
    student_s = time.perf_counter() - started
    sample = texts[:teacher_n]
    started = time.perf_counter()
    teacher_predict(teacher, run.task(), sample)
    teacher_s = time.perf_counter() - started
    started = time.perf_counter()
    rows = predict_texts(run_dir, texts, fallback=True, teacher=teacher)
    cascade_s = time.perf_counter() - started
    share = sum(r["answered_by"] == "teacher" for r in rows) / len(rows)
    return {"bench": "cascade_throughput", "run": run.path.name, "n": len(texts),
            "student_rows_per_s": rate(len(texts), student_s),
            "teacher_rows_per_s": rate(len(sample), teacher_s),
            "cascade_rows_per_s": rate(len(texts), cascade_s), "sent_to_teacher": round(share, 4)}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("run")
    p.add_argument("data", help="JSONL rows with 'input' (a test split)")
    p.add_argument("--n", type=int, default=200)
    p.add_argument("--teacher-n", type=int, default=50)
    p.add_argument("--llm", help="the teacher (default: the run's)")
    p.add_argument("--results", default=str(Path(__file__).parent / "results" / "cascade_throughput.jsonl"))
    args = p.parse_args(argv)
    rows = read_jsonl(args.data)
    texts = [r["input"] for r in random.Random(0).sample(rows, min(args.n, len(rows)))]
    config = RunDir(args.run).require().config()
    teacher = make_llm(args.llm or config.teacher or config.llm)
    line = {"code": commit(), **measure(Path(args.run), texts, args.teacher_n, teacher)}
    append(args.results, line)
    print(json.dumps(line))
    return 0


if __name__ == "__main__":
    sys.exit(main())
