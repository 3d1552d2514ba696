"""Peak memory of training per task family at default settings on this machine.

For each family: its default student (`choose_model`), the default TrainConfig, training rows
from ../shared/datasets, `--steps` optimiser steps (a full run repeats the same step shapes,
so the peak is reached within a few), in a fresh process whose peak resident set size is read
from the kernel (the child's own ru_maxrss). Prints one JSON line with the memory plan (`tools/training/memory.py`:
per-step batch, accumulation, checkpointing, estimate) and the measured peak per family.
Target: every family <= 8 GB.

    python -m bench.memory --shared ../shared [--families classification,ner,extractive_qa,text2text]
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

DATA = {"classification": "sst2", "ner": "wnut17_ner", "extractive_qa": "squad", "text2text": "conala_en"}
TARGET_GB = 8.0


def train_once(family: str, shared: Path, rows: int, steps: int) -> dict:
    """Runs in the child: train `steps` steps and report the plan the trainer used."""
    import logging

    from p2m.core.config import TrainConfig
    from p2m.core.schemas import Example, TaskSpec
    from p2m.runfolder.data_store import read_jsonl
    from p2m.tools.families import train_for
    from p2m.tools.retrieval.models import choose_model

    plans: list[str] = []

    class Grab(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            plans.append(record.getMessage())

    logging.getLogger("p2m.tools.training.finetune").addHandler(Grab())
    logging.getLogger("p2m.tools.training.finetune").setLevel(logging.INFO)
    data = read_jsonl(shared / "datasets" / DATA[family] / "train.jsonl")[:rows]
    examples = [Example(input=r["input"], output=r["output"], source={"kind": "bench"}) for r in data]
    labels = sorted({r["output"] for r in data}) if family == "classification" else None
    task = TaskSpec(instruction=f"bench {family}", task_type=family, labels=labels)
    model = choose_model(task)
    with tempfile.TemporaryDirectory() as tmp:
        result = train_for(task, model.path, examples, Path(tmp), TrainConfig(), progress=False,
                           max_steps=steps)
    return {"model": model.name, "rows": len(examples), "steps": steps,
            "plan": plans[-1] if plans else None, "train_s": result.train_s,
            "peak_rss_gb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 ** 2, 2)}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--shared", default=str(Path(__file__).resolve().parents[2] / "shared"))
    p.add_argument("--families", default=",".join(DATA))
    p.add_argument("--rows", type=int, default=400)
    p.add_argument("--steps", type=int, default=2)
    p.add_argument("--child", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        print(json.dumps(train_once(args.child, Path(args.shared), args.rows, args.steps)))
        return 0
    out = {}
    for family in args.families.split(","):
        proc = subprocess.run([sys.executable, "-m", "bench.memory", "--child", family, "--shared",
                               args.shared, "--rows", str(args.rows), "--steps", str(args.steps)],
                              capture_output=True, text=True)
        child = json.loads(proc.stdout.strip().splitlines()[-1]) if proc.returncode == 0 else \
            {"error": proc.stderr.strip().splitlines()[-1:] or [f"exit {proc.returncode}"], "peak_rss_gb": None}
        out[family] = {**child, "exit": proc.returncode}
        print(json.dumps({family: out[family]}), file=sys.stderr, flush=True)
    peaks = [v["peak_rss_gb"] for v in out.values() if v["peak_rss_gb"] is not None]
    print(json.dumps({"families": out, "target_gb": TARGET_GB,
                      "target_met": all(v["exit"] == 0 for v in out.values()) and
                      all(pk <= TARGET_GB for pk in peaks)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
