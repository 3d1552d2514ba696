"""The classification students side by side on one run's rows: a head on frozen embeddings and
fine-tuning, for MiniLM and (when assembled) mpnet, scored on gold rows of a dataset's TRAIN
split (a development set: the test split stays for bench.unseen). Prints one JSON line per student.

    python -m bench.head_vs_finetune RUN_DIR ../shared/datasets/sst2 [--n 500] [--students ...]
"""
from __future__ import annotations

import argparse
import json
import os
import random
import time
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from p2m.core.config import RunConfig  # noqa: E402
from p2m.core.schemas import TaskSpec  # noqa: E402
from p2m.runfolder.data_store import DataStore, read_jsonl  # noqa: E402
from p2m.tools.encoders.embed import embedder_path  # noqa: E402
from p2m.tools.families import predict_for, score_for  # noqa: E402
from p2m.tools.families.classification.model import train_classifier  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("run")
    p.add_argument("dataset", help="a folder with train.jsonl holding the task's gold rows")
    p.add_argument("--n", type=int, default=500, help="gold rows drawn from the train split (seed)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--students", default="head:minilm,finetune:minilm,head:mpnet,finetune:mpnet")
    p.add_argument("--out", default=None, help="folder for the trained students (default: RUN/bench)")
    args = p.parse_args(argv)
    run = Path(args.run)
    task = TaskSpec(**json.loads((run / "task.json").read_text()))
    cfg = RunConfig.from_dict(json.loads((run / "config.json").read_text())).train
    store = DataStore(run)
    train, val = store.split("train"), store.split("validation")
    seen = {e.input for e in store.all()}
    gold = [r for r in read_jsonl(Path(args.dataset) / "train.jsonl") if r["input"] not in seen]
    dev = random.Random(args.seed).sample(gold, min(args.n, len(gold)))
    texts, golds = [r["input"] for r in dev], [r["output"] for r in dev]
    out = Path(args.out or run / "bench")
    for student in args.students.split(","):
        kind, encoder = student.split(":")
        started = time.perf_counter()
        result = train_classifier(embedder_path(encoder), train, task.labels or [], out / f"{kind}-{encoder}",
                                  replace(cfg, classifier=kind), progress=False, val_rows=val or None)
        metric = score_for(task, predict_for(task, result.path, texts), golds)
        print(json.dumps({"run": run.name, "student": student, "n_train": result.n_train,
                          "n_val": result.n_val, "validation": result.best_val,
                          "dev_accuracy": round(metric.value, 4), "n_dev": len(dev),
                          "s": round(time.perf_counter() - started, 1)}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
