"""Generation diversity over rounds: does a task's third round still write new rows?

For one task of ../shared/datasets (any bench.unseen task: demonstrations drawn from the train
split with the seed as bench.unseen draws them, 2 per label or 4 rows), or a task file of your
own (`--task-file`, a task no setting was tuned on), `--rounds` generation rounds through the
agent's own tool (`generate_examples`: subjects proposed per round, lengths from the
demonstrations, the teacher's verification votes); with a dataset, the last round is
error-driven, imitating the demonstrations-only model's mistakes on 30 random train rows (a
stand-in for a run's validation failures). Prints one JSON line: per round asked, kept,
kept/asked, drop reasons, distinct-2, outputs, s/row; and kept/asked over all rounds (target
with the default model: >= 0.7 for classification, >= 0.5 for the other families, issue 34).

    python -m bench.diversity --shared ../shared [--task trec|conala_en|...] [--llm local:1.5b] [--n 24]
    python -m bench.diversity --task-file my_task.yaml --rounds 1
"""
from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from bench.unseen import build_task, known_tasks, task_rows  # noqa: E402
from p2m.runfolder.context import RunContext  # noqa: E402
from p2m.llm.factory import make_llm  # noqa: E402
from p2m.runfolder.trace import TraceWriter  # noqa: E402
from p2m.core.config import RunConfig  # noqa: E402
from p2m.core.schemas import Example, TaskSpec  # noqa: E402
from p2m.tools.families import fit_baseline, predict_baseline  # noqa: E402
from p2m.tools.specs.generate_examples import generate_examples  # noqa: E402


def baseline_failures(task: TaskSpec, train: list[dict], seed: int, n: int = 30) -> list[dict]:
    """The demonstrations-only model's mistakes on `n` random train rows."""
    rows = random.Random(seed + 1).sample(train, n)
    model = fit_baseline(task, [Example(input=d.input, output=d.output, source={"kind": "user"})
                                for d in task.examples])
    preds = predict_baseline(model, [r["input"] for r in rows])
    return [{"input": r["input"], "expected": r["output"], "predicted": p}
            for r, p in zip(rows, preds) if p != r["output"]]


def task_for(name: str, task_file: str | None, shared: Path, seed: int) -> tuple[TaskSpec, list[dict]]:
    """(the task, its train rows): a bench.unseen task drawn with `seed`, or a task file's task
    with its demonstrations drawn as bench.unseen draws them (no train rows)."""
    if task_file:
        return build_task(task_file, [], seed), []
    train = task_rows(shared, name, "train")
    return build_task(name, train, seed), train


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--shared", default=str(Path(__file__).resolve().parents[2] / "shared"))
    p.add_argument("--task", default="trec", choices=sorted(known_tasks()))
    p.add_argument("--task-file", help="a task file of your own instead of --task")
    p.add_argument("--llm", default="local:1.5b", help="the model that writes, proposes and votes")
    p.add_argument("--n", type=int, default=24, help="rows asked per round")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    task, train = task_for(args.task, args.task_file, Path(args.shared), args.seed)
    llm = make_llm(args.llm)
    rounds, asked, kept = [], 0, 0
    with tempfile.TemporaryDirectory() as tmp:
        ctx = RunContext(run_dir=Path(tmp), task=task, config=RunConfig(llm=args.llm), llm=llm,
                         trace=TraceWriter(Path(tmp) / "trace.jsonl"), progress=False)
        for r in range(args.rounds):
            errors = r == args.rounds - 1 and args.rounds > 1 and bool(train)
            if errors:
                ctx.write_json("failures.json", baseline_failures(task, train, args.seed))
            started = time.perf_counter()
            out = generate_examples(ctx, n=args.n, errors_only=errors)
            rows = [e for e in ctx.store.all() if e.source.get("kind") == "generated"][kept:]
            asked, kept = asked + out["asked"], kept + out["kept"]
            rounds.append({"round": r + 1, "error_driven": out["error_driven"], "asked": out["asked"],
                           "kept": out["kept"], "kept_share": out["kept_share"], "dropped": out["dropped"],
                           "distinct_2": out["distinct_2"],
                           "labels": dict(Counter(e.output for e in rows)) if task.label_set else None,
                           "outputs": [e.output[:100] for e in rows[:3]],
                           "s_per_row": round((time.perf_counter() - started) / max(1, out["asked"]), 2),
                           "examples": [e.input[:100] for e in rows[:3]]})
            print(json.dumps(rounds[-1]), file=sys.stderr, flush=True)
        subjects = ctx.read_json("data/attributes.json", {})
    target = 0.7 if task.task_type == "classification" else 0.5
    print(json.dumps({"task": args.task_file or args.task, "family": task.task_type, "seed": args.seed,
                      "llm": args.llm, "rounds": rounds, "kept_share": round(kept / max(1, asked), 3),
                      "target": target, "target_met": kept / max(1, asked) >= target,
                      "llm_calls": llm.usage.calls, "subjects": subjects}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
