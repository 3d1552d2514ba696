"""Does the cascade's disagreement bound hold on rows it was not fitted on? Real student, real
teacher, development rows (a dataset's TRAIN split, none the run saw; the test split stays for
bench.unseen).

For a finished classification run: `--n` rows drawn at random (seed 0) from the dataset's train
split, minus every input the run holds; the run's teacher (its demonstrations, its prompt)
labels them by scoring; the published model gives its label and confidence. Then `--splits`
seeded splits into halves: the threshold is fitted on one half (`tools/cascade.calibrate`, the
run's budget) and checked on the other: the share of rows answered alone that disagree with the
teacher must stay within the budget (the bound promises this in 95% of draws). Also on that
half, against the gold labels: the student alone, the cascade and the teacher, and the share
sent to the teacher. One JSON line per split and a summary line, appended to
bench/results/cascade_bound.jsonl.

    python -m bench.cascade_bound RUN ../shared/datasets/trec [--n 600] [--splits 10]
"""
from __future__ import annotations

import argparse
import json
import os
import random
import sys
from pathlib import Path
from typing import Any, Optional

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from p2m.llm.factory import run_teacher  # noqa: E402
from p2m.runfolder.rundir import RunDir  # noqa: E402
from p2m.tools.scoring.cascade import calibrate, cascade_answers, confident, route  # noqa: E402
from p2m.runfolder.data_store import DataStore, read_jsonl  # noqa: E402
from p2m.tools.scoring.predictions import teacher_distributions, top_label  # noqa: E402


def unseen_rows(run: Path, task: Any, dataset: Path, n: int) -> list[dict]:
    """`n` rows of `dataset`'s train split drawn at random (seed 0) from those whose input the run
    never held (its rows, demonstrations and unlabelled texts)."""
    held = {e.input.strip().lower() for e in DataStore(run).all()} | \
        {d.input.strip().lower() for d in task.examples} | {t.strip().lower() for t in task.unlabelled}
    pool = [r for r in read_jsonl(dataset / "train.jsonl") if r["input"].strip().lower() not in held]
    return random.Random(0).sample(pool, min(n, len(pool)))


def cached_teacher(cache: Optional[Path], texts: list[str]) -> Optional[list[str]]:
    """The teacher's labels of `texts` kept in `cache`, when it holds exactly these texts."""
    saved = json.loads(cache.read_text()) if cache and cache.is_file() else {}
    return saved["teacher"] if saved.get("texts") == texts else None


def split_check(conf: list[float], student: list[str], teacher: list[str], gold: list[str],
                budget: float, seed: int) -> dict:
    """Fit the threshold on one seeded half, check it on the other."""
    order = list(range(len(conf)))
    random.Random(seed).shuffle(order)
    fit, check = order[: len(order) // 2], order[len(order) // 2:]
    fitted = calibrate([conf[i] for i in fit], [student[i] == teacher[i] for i in fit], budget)
    alone = route([conf[i] for i in check], fitted)
    answered = [i for i, a in zip(check, alone) if a]
    disagree = sum(student[i] != teacher[i] for i in answered) / len(answered) if answered else None
    mixed, _ = cascade_answers([student[i] for i in check], [teacher[i] for i in check], alone)

    def accuracy(preds: list[str]) -> float:
        return round(sum(p == gold[i] for p, i in zip(preds, check)) / len(check), 4)

    return {"split": seed, "threshold": fitted.get("threshold"), "n_fit": len(fit), "n_check": len(check),
            "answered_alone": round(len(answered) / len(check), 4),
            "disagree_alone": None if disagree is None else round(disagree, 4),
            "bound_held": disagree is None or disagree <= budget,
            "student": accuracy([student[i] for i in check]), "cascade": accuracy(mixed),
            "teacher": accuracy([teacher[i] for i in check])}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("run")
    p.add_argument("dataset", help="a folder with train.jsonl: the task's gold rows")
    p.add_argument("--n", type=int, default=600)
    p.add_argument("--splits", type=int, default=10)
    p.add_argument("--budgets", help="comma-separated disagreement budgets to try (default: the run's own)")
    p.add_argument("--cache", help="a JSON file keeping the teacher's labels of the drawn rows (reused when present)")
    p.add_argument("--results", default=str(Path(__file__).parent / "results" / "cascade_bound.jsonl"))
    args = p.parse_args(argv)
    from bench.record import append, commit

    run = RunDir(Path(args.run))
    task, config = run.task(), run.config()
    if not task.label_set:
        raise SystemExit(f"{args.run}: the cascade serves label-set tasks only")
    rows = unseen_rows(Path(args.run), task, Path(args.dataset), args.n)
    texts, gold = [r["input"] for r in rows], [r["output"] for r in rows]
    cache = Path(args.cache) if args.cache else None
    teacher = cached_teacher(cache, texts)
    if teacher is None:
        teacher = [top_label(d) for d in teacher_distributions(run_teacher(config), task, texts)]
        if cache:
            cache.write_text(json.dumps({"texts": texts, "teacher": teacher}))
    student, conf = confident(run.model_dir, texts)
    budgets = [float(b) for b in args.budgets.split(",")] if args.budgets else [config.data.route_budget]
    for budget in budgets:
        lines = [split_check(conf, student, teacher, gold, budget, s) for s in range(args.splits)]
        fitted = [line for line in lines if line["threshold"] is not None]
        summary = {"bench": "cascade_bound", "code": commit(), "run": Path(args.run).name, "n": len(rows),
                   "budget": budget, "splits": args.splits, "bound_held": sum(line["bound_held"] for line in lines),
                   "with_threshold": len(fitted),
                   "answered_alone_mean": round(sum(line["answered_alone"] for line in lines) / len(lines), 4),
                   "cascade_minus_teacher_mean": round(sum(line["cascade"] - line["teacher"] for line in lines)
                                                       / len(lines), 4),
                   "student_teacher_agreement": round(sum(s == t for s, t in zip(student, teacher)) / len(rows), 4)}
        append(args.results, *({"bench": "cascade_bound", "run": summary["run"], "budget": budget, **line}
                                for line in lines), summary)
        for line in lines:
            print(json.dumps(line), flush=True)
        print(json.dumps(summary), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
