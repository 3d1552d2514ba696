"""Students trained on a task's real train split (the paper's "real data" reference).

usage: python -m bench.students TASK_DIR [--limit N] [--test-limit N] [--epochs E] [--no-bare] [--baseline]
TASK_DIR holds card.json, train.jsonl and test.jsonl (as ../shared/datasets/<name>). Trains
p2m's chosen student the way a run does (tools.families.train_for), scores it on the test split
with the family's metric, and trains the same model on the same rows with a bare
`transformers.Trainer` to compare throughput: for classification an independent minimal Trainer
(same epochs, batch size, learning rate, no validation split, early stopping or checkpoints); for
the other families the family's own features and collator through a Trainer without checkpoints
or validation rows. Prints one JSON line (the Trainer's logs go to stderr).
"""
from __future__ import annotations

import argparse
import contextlib
import json
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path


def bare_trainer(model_path: str, rows: list, labels: list[str], cfg, out: Path) -> dict:
    from datasets import Dataset
    from transformers import (AutoModelForSequenceClassification, AutoTokenizer,
                              DataCollatorWithPadding, Trainer, TrainingArguments)

    tok = AutoTokenizer.from_pretrained(model_path)
    model = AutoModelForSequenceClassification.from_pretrained(model_path, num_labels=len(labels))
    ids = {label: i for i, label in enumerate(labels)}
    data = Dataset.from_dict({"text": [r.input for r in rows], "label": [ids[r.output] for r in rows]})
    data = data.map(lambda b: tok(b["text"], truncation=True, max_length=cfg.max_length or 128), batched=True,
                    remove_columns=["text"])
    args = TrainingArguments(output_dir=str(out), num_train_epochs=cfg.epochs, learning_rate=cfg.learning_rate,
                             per_device_train_batch_size=cfg.batch_size, report_to=[], use_cpu=True,
                             save_strategy="no", disable_tqdm=True, seed=cfg.seed)
    started = time.perf_counter()
    output = Trainer(model=model, args=args, train_dataset=data,
                     data_collator=DataCollatorWithPadding(tok)).train()
    return {"train_s": round(time.perf_counter() - started, 2),
            "examples_per_s": round(float(output.metrics["train_samples_per_second"]), 2)}


def main() -> int:
    with contextlib.redirect_stdout(sys.stderr):  # the Trainer prints its logs on stdout
        out = run()
    print(json.dumps(out))
    return 0


def run() -> dict:
    ap = argparse.ArgumentParser()
    ap.add_argument("task_dir")
    ap.add_argument("--limit", type=int, default=0, help="train rows (0: all)")
    ap.add_argument("--test-limit", type=int, default=0, help="test rows (0: all)")
    ap.add_argument("--epochs", type=float, default=0, help="override the default epochs")
    ap.add_argument("--no-bare", action="store_true")
    ap.add_argument("--baseline", action="store_true",
                    help="text-to-text: also score the pretrained model before training")
    args = ap.parse_args()

    from p2m.core.config import TrainConfig
    from p2m.core.schemas import Example, TaskSpec
    from p2m.runfolder.data_store import read_jsonl
    from p2m.tools.scoring.predictions import evaluate_model
    from p2m.tools.families import train_for
    from p2m.tools.retrieval.models import choose_model

    task_dir = Path(args.task_dir)
    card = json.loads((task_dir / "card.json").read_text())
    task = TaskSpec(instruction=card.get("description") or card["name"],
                    task_type=card.get("task_type", "classification"), labels=card.get("labels"))

    def rows(split: str, limit: int) -> list[Example]:
        return [Example(input=r["input"], output=r["output"], split=split,
                        source={"kind": "bench", **({"answers": r["answers"]} if "answers" in r else {})})
                for r in read_jsonl(task_dir / f"{split}.jsonl", limit=limit or None)]

    train, test = rows("train", args.limit), rows("test", args.test_limit)
    cfg = TrainConfig()
    if args.epochs:  # exactly these epochs: no minimum-steps stretch (the batch may still halve)
        cfg = replace(cfg, epochs=args.epochs, max_epochs=args.epochs)
    choice = choose_model(task)
    out: dict = {"task": card["name"], "task_type": task.task_type, "model": choice.name,
                 "n_train": len(train), "n_test": len(test)}
    if task.task_type not in ("classification", "extractive_qa", "ner") and args.baseline:
        # A pretrained decoder can already do text-to-text: its untrained score is the baseline.
        before = evaluate_model(choice.path, test, task)
        out["metric_before_training"] = {"name": before.name, "value": before.value, **before.others}
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        result = train_for(task, choice.path, train, Path(tmp) / "p2m", cfg, progress=False)
        out["p2m"] = {"train_s": result.train_s, "wall_s": round(time.perf_counter() - started, 2),
                      "examples_per_s": result.examples_per_s, "epochs_run": result.epochs_run,
                      "batch_size": result.batch_size}
        t0 = time.perf_counter()
        metrics = evaluate_model(result.path, test, task)
        out["metric"] = {"name": metrics.name, "value": metrics.value, **metrics.others}
        out["eval_s"] = round(time.perf_counter() - t0, 2)
        if not args.no_bare:
            # The same batch size and epochs as p2m's training really used.
            bare_cfg = replace(cfg, batch_size=result.batch_size, epochs=result.epochs_run)
            if task.task_type == "classification":
                out["bare_trainer"] = bare_trainer(choice.path, train, task.labels, bare_cfg,
                                                   Path(tmp) / "bare")
            else:
                # The family's own features and collator through a Trainer that keeps no
                # checkpoints and holds out no validation rows: what p2m's bookkeeping costs.
                bare_cfg = replace(bare_cfg, val_fraction=0.0, min_steps=0)
                bare = train_for(task, choice.path, train, Path(tmp) / "bare", bare_cfg,
                                 progress=False, save_strategy="no")
                out["bare_trainer"] = {"train_s": bare.train_s, "examples_per_s": bare.examples_per_s,
                                       "kind": "same features, Trainer without checkpoints or validation"}
            out["throughput_ratio"] = round(out["p2m"]["examples_per_s"] /
                                            out["bare_trainer"]["examples_per_s"], 3)
    return out


if __name__ == "__main__":
    sys.exit(main())
