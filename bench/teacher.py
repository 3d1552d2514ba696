"""The teacher LLM's metric and seconds per item on a task directory, zero- or few-shot.

usage: python -m bench.teacher TASK_DIR [--n N] [--demos K] [--llm SPEC] [--seed S] [--dev]
TASK_DIR holds card.json (task_type, labels, description), train.jsonl and test.jsonl. The teacher
sees the card's description as instruction and K demonstrations per label drawn at random from
train.jsonl (K=0: zero-shot; a task without labels, as QA, NER or text-to-text, K in all), and
answers N test rows drawn at random (seed S: some test files are sorted by label). With --dev it
answers N train rows that are not demonstrations instead (development rows: for choosing, where
the test split must not be read). Gold is every answer a row lists (SQuAD's `answers`).
Prints one JSON line.
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
    ap.add_argument("--dev", action="store_true", help="score train rows that are not demonstrations")
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
    task_type = card.get("task_type", "classification")
    train = read_jsonl(task_dir / "train.jsonl")
    if task_type == "classification":
        by_label: dict[str, list[dict]] = {}
        for row in train:
            by_label.setdefault(row["output"], []).append(row)
        drawn = [r for label in sorted(by_label)
                 for r in rng.sample(by_label[label], min(args.demos, len(by_label[label])))]
        labels = labels or sorted(by_label)
    else:  # outputs are free text: K demonstrations in all
        drawn = rng.sample(train, min(args.demos, len(train)))
    demos = [Demonstration(input=r["input"], output=r["output"]) for r in drawn]
    task = TaskSpec(instruction=instruction, task_type=task_type, labels=labels, examples=demos)
    shown = {r["input"] for r in drawn}
    rows = [r for r in train if r["input"] not in shown] if args.dev else read_jsonl(task_dir / "test.jsonl")
    rows = rng.sample(rows, min(args.n, len(rows)))
    examples = [Example(input=r["input"], output=r["output"], split="train" if args.dev else "test",
                        source={"kind": "bench", **({"answers": r["answers"]} if "answers" in r else {})})
                for r in rows]
    llm = make_llm(args.llm)
    result = teacher_score(llm, task, examples)
    print(json.dumps({"task": card["name"], "llm": llm.describe(), "n": result["n"], "demos": len(demos),
                      "seed": args.seed, "rows": "dev (train split)" if args.dev else "test",
                      "metric": result["metric"], "macro_f1": result["others"].get("macro_f1"),
                      "s_per_item": result["s_per_item"], "llm_calls": llm.usage.calls,
                      "faults": dict(llm.usage.faults)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
