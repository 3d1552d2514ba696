"""The teacher LLM's zero-shot metric and seconds per item on a task directory.

usage: python -m bench.teacher TASK_DIR [--n N] [--demos K] [--llm SPEC]
TASK_DIR holds card.json (task_type, labels, description), train.jsonl and test.jsonl. The teacher
sees the card's description as instruction and K demonstrations per label taken from the start of
train.jsonl (as a user's task file would give them). Prints one JSON line.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("task_dir")
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--demos", type=int, default=1, help="demonstrations per label from train.jsonl")
    ap.add_argument("--llm", default="local")
    args = ap.parse_args()

    from p2m.agent.factory import make_llm
    from p2m.schemas import Demonstration, Example, TaskSpec
    from p2m.tools.data_store import read_jsonl
    from p2m.tools.evaluate import teacher_score

    task_dir = Path(args.task_dir)
    card = json.loads((task_dir / "card.json").read_text())
    labels = card.get("labels")
    instruction = card.get("description") or card["name"]
    demos: list[Demonstration] = []
    per_label: dict[str, int] = {}
    for row in read_jsonl(task_dir / "train.jsonl", limit=5000):
        if per_label.get(row["output"], 0) < args.demos:
            per_label[row["output"]] = per_label.get(row["output"], 0) + 1
            demos.append(Demonstration(input=row["input"], output=row["output"]))
    task = TaskSpec(instruction=instruction, task_type=card.get("task_type", "classification"),
                    labels=labels, examples=demos)
    rows = read_jsonl(task_dir / "test.jsonl", limit=args.n)
    examples = [Example(input=r["input"], output=r["output"], split="test", source={"kind": "bench"})
                for r in rows]
    llm = make_llm(args.llm)
    result = teacher_score(llm, task, examples)
    print(json.dumps({"task": card["name"], "llm": llm.describe(), "n": result["n"], "demos": len(demos),
                      "metric": result["metric"], "macro_f1": result["others"].get("macro_f1"),
                      "s_per_item": result["s_per_item"], "llm_calls": llm.usage.calls,
                      "faults": dict(llm.usage.faults)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
