"""The teacher LLM's metric and seconds per item on a task directory, zero- or few-shot.

usage: python -m bench.teacher TASK_DIR [--n N] [--demos K] [--llm SPEC] [--seed S]
TASK_DIR holds card.json (task_type, labels, description), train.jsonl and test.jsonl. The teacher
sees the card's description as instruction and K demonstrations per label drawn at random from
train.jsonl (K=0: zero-shot), and answers N test rows drawn at random (seed S: some test files
are sorted by label). Prints one JSON line.
"""
from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("task_dir")
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--demos", type=int, default=1, help="demonstrations per label from train.jsonl")
    ap.add_argument("--llm", default="local")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    from p2m.llm.factory import make_llm
    from p2m.core.schemas import Demonstration, Example, TaskSpec
    from p2m.runfolder.data_store import read_jsonl
    from p2m.tools.scoring.predictions import teacher_score

    task_dir = Path(args.task_dir)
    card = json.loads((task_dir / "card.json").read_text())
    labels = card.get("labels")
    instruction = card.get("description") or card["name"]
    rng = random.Random(args.seed)
    by_label: dict[str, list[dict]] = {}
    for row in read_jsonl(task_dir / "train.jsonl"):
        by_label.setdefault(row["output"], []).append(row)
    demos = [Demonstration(input=r["input"], output=r["output"]) for label in sorted(by_label)
             for r in rng.sample(by_label[label], min(args.demos, len(by_label[label])))]
    task = TaskSpec(instruction=instruction, task_type=card.get("task_type", "classification"),
                    labels=labels or sorted(by_label), examples=demos)
    rows = read_jsonl(task_dir / "test.jsonl")
    rows = rng.sample(rows, min(args.n, len(rows)))
    examples = [Example(input=r["input"], output=r["output"], split="test", source={"kind": "bench"})
                for r in rows]
    llm = make_llm(args.llm)
    result = teacher_score(llm, task, examples)
    print(json.dumps({"task": card["name"], "llm": llm.describe(), "n": result["n"], "demos": len(demos),
                      "seed": args.seed,
                      "metric": result["metric"], "macro_f1": result["others"].get("macro_f1"),
                      "s_per_item": result["s_per_item"], "llm_calls": llm.usage.calls,
                      "faults": dict(llm.usage.faults)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
