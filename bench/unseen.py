"""End-to-end runs on tasks whose own data is withheld, scored on their real test split.

For each task: a catalog of ../shared/datasets *minus the task's dataset*, a task file with
2 demonstrations per label drawn at random from the train split (seed 0), one `p2m run` with
the given LLM and the default budgets, then, on `--limit` test rows drawn at random (seed 0;
some test files are sorted by label), three models a user could have:
- the student p2m selected on validation (and the published model, when that is the baseline),
- the demonstrations-only baseline (MiniLM embeddings + logistic regression on the demos),
- the teacher LLM the run used (`RunConfig.teacher`), prompted with the same demonstrations.
Prints one JSON line. Target: the student beats both baselines on every task, by >= 0.05 on
average.

    python -m bench.unseen --shared ../shared [--tasks sst2,agnews,trec] [--limit 500]
        [--sources generated]   # no catalog: generated rows and demonstrations only
        [--model all-mpnet-base-v2] [--classifier auto|head|finetune]   # the student's settings
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

from p2m.agent.factory import make_llm  # noqa: E402
from p2m.config import CLASSIFIERS, RunConfig, TrainConfig  # noqa: E402
from p2m.runner import start  # noqa: E402
from p2m.schemas import Example, TaskSpec  # noqa: E402
from p2m.tools.data_store import DataStore, read_jsonl  # noqa: E402
from p2m.tools.evaluate import teacher_predict  # noqa: E402
from p2m.tools.families import fit_baseline, predict_baseline, predict_for, score_for  # noqa: E402

# Written before any run: what a user would type for each task.
TASKS = {
    "sst2": "Classify the sentiment of a movie review sentence as positive or negative.",
    "agnews": "Sort news articles into one of four topics: World, Sports, Business or Sci/Tech.",
    "trec": "Classify a question by the type of answer it expects: abbreviation, description, "
            "entity, human, location or numeric.",
}


def demonstrations(rows: list[dict], per_label: int, seed: int) -> list[dict]:
    by_label: dict[str, list[dict]] = {}
    for r in rows:
        by_label.setdefault(r["output"], []).append(r)
    rng = random.Random(seed)
    return [{"input": r["input"], "output": r["output"]}
            for label in sorted(by_label) for r in rng.sample(by_label[label], per_label)]


def catalog_without(shared: Path, name: str, root: Path) -> Path:
    """A catalog folder holding every shared dataset but `name` (as symbolic links)."""
    root.mkdir(parents=True, exist_ok=True)
    for d in sorted((shared / "datasets").iterdir()):
        if d.is_dir() and d.name != name and not (root / d.name).exists():
            (root / d.name).symlink_to(d.resolve())
    return root


def by_source(run: Path) -> dict[str, int]:
    counts: Counter[str] = Counter()
    for e in DataStore(run).all():
        if e.split == "test":
            continue
        kind = e.source.get("kind", "?")
        if kind == "dataset":
            kind = f"dataset:{e.source.get('name')}" + (" (relabelled)" if "relabelled_by" in e.source else "")
        counts[f"{kind}/{e.split}"] += 1
    return dict(counts)


def run_config(llm_spec: str, catalog: list[str], planner: str = "auto", model: str | None = None,
               classifier: str = "auto") -> RunConfig:
    """The run's settings: the defaults, but for what the bench's flags name."""
    return RunConfig(llm=llm_spec, catalog=catalog, planner=planner, model=model,
                     train=TrainConfig(classifier=classifier))


def run_task(name: str, shared: Path, out: Path, llm_spec: str, limit: int, seed: int,
             sources: str = "all", planner: str = "auto", model: str | None = None,
             classifier: str = "auto") -> dict:
    train = read_jsonl(shared / "datasets" / name / "train.jsonl")
    demos = demonstrations(train, 2, seed)
    task = TaskSpec(instruction=TASKS[name], task_type="classification",
                    labels=sorted({r["output"] for r in train}), examples=demos)
    test_rows = read_jsonl(shared / "datasets" / name / "test.jsonl")
    test_rows = random.Random(seed).sample(test_rows, min(limit, len(test_rows)))
    gold = [Example(input=r["input"], output=r["output"], split="test", source={"kind": "bench"})
            for r in test_rows]
    texts, golds = [e.input for e in gold], [e.output for e in gold]

    def score(preds: list[str]) -> float:
        return score_for(task, preds, golds).value

    task_file = out / f"{name}.yaml"
    task_file.write_text(json.dumps(task.model_dump(exclude={"test"}), ensure_ascii=False))
    catalog = [str(catalog_without(shared, name, out / f"catalog-{name}"))] if sources == "all" else []
    config = run_config(llm_spec, catalog, planner, model, classifier)
    run_dir = out / f"run-{name}" if planner == "auto" else out / f"run-{name}-{planner}"
    started = time.perf_counter()
    report = start(None, str(task_file), config, run_dir, progress=False)
    wall = time.perf_counter() - started
    selection = json.loads((run_dir / "selection.json").read_text())
    student = score(predict_for(task, selection["best_student"]["path"], texts))
    published = score(predict_for(task, run_dir / "model", texts))
    baseline = score(predict_baseline(fit_baseline(task, [Example(**d, source={"kind": "user"})
                                                          for d in demos]), texts))
    t0 = time.perf_counter()
    teacher = score(teacher_predict(make_llm(config.teacher or llm_spec), task, texts)[0])
    return {"student": round(student, 4), "published": round(published, 4),
            "published_kind": selection["published"]["kind"],
            "demonstrations_only": round(baseline, 4), "teacher": round(teacher, 4),
            "gap_vs_best_baseline": round(student - max(baseline, teacher), 4),
            "n_test": len(gold), "n_train_by_source": by_source(run_dir),
            "run_estimate": {"metric": report.get("metric"), "test": report.get("test"),
                             "baselines": report.get("baselines")},
            "llm_calls": report.get("llm_calls"), "iterations": report.get("iterations"),
            "stop_reason": report.get("stop_reason"), "wall_s": round(wall, 1),
            "teacher_s": round(time.perf_counter() - t0, 1)}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--shared", default=str(Path(__file__).resolve().parents[2] / "shared"))
    p.add_argument("--tasks", default="sst2,agnews,trec")
    p.add_argument("--limit", type=int, default=500, help="test rows per task (seeded random draw)")
    p.add_argument("--llm", default="local")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", help="folder for the runs (default: a new temporary folder)")
    p.add_argument("--sources", choices=("all", "generated"), default="all",
                   help="generated: no catalog, the student learns from generated rows and demonstrations")
    p.add_argument("--model", help="force the student model (e.g. all-mpnet-base-v2); default: the run's choice")
    p.add_argument("--classifier", choices=CLASSIFIERS, default="auto",
                   help="how the classification student is trained (TrainConfig.classifier)")
    args = p.parse_args(argv)
    shared = Path(args.shared)
    out = Path(args.out or tempfile.mkdtemp(prefix="p2m-unseen-"))
    out.mkdir(parents=True, exist_ok=True)
    results = {}
    for name in args.tasks.split(","):
        if name not in TASKS:
            raise SystemExit(f"unknown task {name!r}; known: {', '.join(TASKS)}")
        results[name] = run_task(name, shared, out, args.llm, args.limit, args.seed, args.sources,
                                 model=args.model, classifier=args.classifier)
        print(json.dumps({name: results[name]}), file=sys.stderr, flush=True)
    gaps = [r["gap_vs_best_baseline"] for r in results.values()]
    print(json.dumps({"llm": args.llm, "sources": args.sources, "model": args.model,
                      "classifier": args.classifier, "out": str(out), "tasks": results,
                      "mean_gap_vs_best_baseline": round(sum(gaps) / len(gaps), 4),
                      "target_met": all(g > 0 for g in gaps) and sum(gaps) / len(gaps) >= 0.05}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
