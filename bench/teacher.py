"""The teacher LLM's zero-shot metric and seconds per item on a task directory.

usage: python bench/teacher.py TASK_DIR [--n N] [--llm SPEC]
TASK_DIR holds card.json (task_type, labels, description) and test.jsonl. Prints one JSON line.
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
    ap.add_argument("--llm", default="local")
    args = ap.parse_args()

    from p2m.agent.factory import make_llm
    from p2m.schemas import Example, TaskSpec
    from p2m.tools.data_store import read_jsonl
    from p2m.tools.evaluate import teacher_score

    task_dir = Path(args.task_dir)
    card = json.loads((task_dir / "card.json").read_text())
    labels = card.get("labels")
    instruction = card.get("description") or card["name"]
    task = TaskSpec(instruction=instruction, task_type=card.get("task_type", "classification"), labels=labels)
    rows = read_jsonl(task_dir / "test.jsonl", limit=args.n)
    examples = [Example(input=r["input"], output=r["output"], split="test", source={"kind": "bench"})
                for r in rows]
    llm = make_llm(args.llm)
    result = teacher_score(llm, task, examples)
    print(json.dumps({"task": card["name"], "llm": llm.describe(), "n": result["n"],
                      "metric": result["metric"], "macro_f1": result["others"].get("macro_f1"),
                      "s_per_item": result["s_per_item"], "llm_calls": llm.usage.calls,
                      "faults": dict(llm.usage.faults)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
