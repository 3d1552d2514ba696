"""Encoders for the classification student side by side on development rows: each of
head/fine-tuned x MiniLM/mpnet (or any sentence-transformers folder) trained on n rows of a
dataset's TRAIN split and scored on other rows of that split (the test split stays for
bench.unseen), with its training seconds. One JSON line per (task, n, student), appended to
bench/results/encoders.jsonl; the rule that reads them is in docs/students.md.

With `--run RUN DATASET`, the students learn from a finished run's own rows instead (its train
split, teacher-labelled and carrying the teacher's distributions, validated on its validation
split, as the run trained them) and are scored on `--dev` rows of DATASET's train split that
the run never held; with `--teacher-cache` (bench.cascade_bound's cache of the teacher's labels
of those rows) each line also gives the teacher's accuracy and the student's agreement with it.

    python -m bench.encoders --shared ../shared [--tasks sst2,agnews,trec] [--rows 64,256] [--dev 400]
        [--students head:minilm,finetune:minilm,head:mpnet,finetune:mpnet] [--threads 1]
    python -m bench.encoders --run RUN ../shared/datasets/sst2 --dev 600 --students head:mpnet,finetune:mpnet
        [--teacher-cache bench-cache.json]
"""
from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Optional

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from bench.cascade_bound import cached_teacher, unseen_rows  # noqa: E402
from p2m.core.config import TrainConfig  # noqa: E402
from p2m.core.schemas import Example, TaskSpec  # noqa: E402
from p2m.runfolder.data_store import DataStore, read_jsonl  # noqa: E402
from p2m.runfolder.rundir import RunDir  # noqa: E402
from p2m.tools.encoders.embed import embedder_path  # noqa: E402
from p2m.tools.families import predict_for, score_for  # noqa: E402
from p2m.tools.families.classification.model import train_classifier  # noqa: E402


def draw(rows: list[dict], n_train: int, n_dev: int, seed: int) -> tuple[list[dict], list[dict]]:
    """`n_train` training rows and `n_dev` other rows (no input shared), drawn at random."""
    unique = list({r["input"].strip().lower(): r for r in rows}.values())
    picked = random.Random(seed).sample(unique, min(len(unique), n_train + n_dev))
    return picked[:n_train], picked[n_train:]


def measure(task: TaskSpec, student: str, train: list[dict] | list[Example], dev: list[dict], out: Path,
            cfg: TrainConfig, val_rows: Optional[list[Example]] = None,
            teacher: Optional[list[str]] = None) -> dict:
    """Train one student (`kind:encoder`) on `train`, score it on `dev`: accuracy and seconds
    (and, given the teacher's labels of `dev`, the student's agreement with them)."""
    kind, encoder = student.split(":", 1)
    rows = [r if isinstance(r, Example) else Example(input=r["input"], output=r["output"], source={"kind": "bench"})
            for r in train]
    started = time.perf_counter()
    result = train_classifier(embedder_path(encoder), rows, task.labels or [], out,
                              replace(cfg, classifier=kind), progress=False, val_rows=val_rows)
    train_s = time.perf_counter() - started
    preds = predict_for(task, result.path, [r["input"] for r in dev])
    metric = score_for(task, preds, [r["output"] for r in dev])
    line = {"student": student, "n_train": result.n_train, "n_val": result.n_val,
            "validation": result.best_val, "dev_accuracy": round(metric.value, 4), "n_dev": len(dev),
            "train_s": round(train_s, 1)}
    if teacher is not None:
        line["dev_agreement_with_teacher"] = round(sum(p == t for p, t in zip(preds, teacher)) / len(dev), 4)
    return line


def run_rows(run: Path, dataset: Path, n_dev: int) -> tuple[TaskSpec, list[Example], list[Example], list[dict]]:
    """A finished run's task, its train and validation rows, and `n_dev` rows of `dataset`'s train
    split whose input the run never held (bench.cascade_bound's draw, so its teacher cache fits)."""
    task = RunDir(run).task()
    store = DataStore(run)
    return task, store.split("train"), store.split("validation"), unseen_rows(run, task, dataset, n_dev)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--shared", default=str(Path(__file__).resolve().parents[2] / "shared"))
    p.add_argument("--tasks", default="sst2,agnews,trec")
    p.add_argument("--rows", default="64,256", help="training rows per student (comma-separated)")
    p.add_argument("--dev", type=int, default=400, help="development rows scored (other train-split rows)")
    p.add_argument("--students", default="head:minilm,finetune:minilm,head:mpnet,finetune:mpnet")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--threads", type=int, default=1, help="torch threads")
    p.add_argument("--results", default=str(Path(__file__).parent / "results" / "encoders.jsonl"))
    p.add_argument("--run", nargs=2, metavar=("RUN", "DATASET"),
                   help="students learn from a finished run's rows; dev rows from DATASET's train split")
    p.add_argument("--teacher-cache", help="bench.cascade_bound's cache of the teacher's labels of the dev rows")
    args = p.parse_args(argv)
    import torch

    from bench.record import append, commit
    from bench.unseen import TASKS

    torch.set_num_threads(args.threads)
    out = Path(tempfile.mkdtemp(prefix="p2m-encoders-"))
    code = commit()
    if args.run:
        run, dataset = Path(args.run[0]), Path(args.run[1])
        task, train, val, dev = run_rows(run, dataset, args.dev)
        teacher = cached_teacher(Path(args.teacher_cache) if args.teacher_cache else None,
                                 [r["input"] for r in dev])
        extra = {} if teacher is None else {
            "teacher_dev_accuracy": round(sum(t == r["output"] for t, r in zip(teacher, dev)) / len(dev), 4)}
        for student in args.students.split(","):
            line = {"bench": "encoders", "code": code, "run": run.name, "dataset": dataset.name,
                    "threads": args.threads, **extra,
                    **measure(task, student, train, dev, out / student.replace(":", "-"), TrainConfig(),
                              val_rows=val, teacher=teacher)}
            append(args.results, line)
            print(json.dumps(line), flush=True)
        return 0
    for name in args.tasks.split(","):
        if name not in TASKS:
            raise SystemExit(f"unknown task {name!r}; known: {', '.join(TASKS)}")
        rows = read_jsonl(Path(args.shared) / "datasets" / name / "train.jsonl")
        task = TaskSpec(instruction=TASKS[name], task_type="classification",
                        labels=sorted({r["output"] for r in rows}), examples=[])
        for n in (int(x) for x in args.rows.split(",")):
            train, dev = draw(rows, n, args.dev, args.seed)
            for student in args.students.split(","):
                line = {"bench": "encoders", "code": code, "task": name, "seed": args.seed,
                        "threads": args.threads,
                        **measure(task, student, train, dev, out / f"{name}-{n}-{student.replace(':', '-')}",
                                  TrainConfig())}
                append(args.results, line)
                print(json.dumps(line), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
