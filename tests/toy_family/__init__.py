"""A toy task family, whole in this one folder: "shout", whose output is its input in capitals.

Its student learns, from the training rows, whether outputs are the input upper-cased or kept
as written (the rows vote); its baseline always copies the input; its metric is exact match.
Importing this package registers it; nothing else in p2m names it (issue 37, item 5)."""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Optional

from p2m.core.schemas import Example, Metrics, TaskSpec
from p2m.tools.families.base import Family, FAMILIES, register
from p2m.tools.training.finetune import TrainResult

MODEL_FILE = "shout.json"


def train(task: TaskSpec, model_path: str, examples: list[Example], out_dir: str | Path, cfg: Any,
          progress: bool = True, val_rows: Optional[list[Example]] = None, **_: Any) -> TrainResult:
    started = time.perf_counter()
    upper = sum(e.output == e.input.upper() for e in examples) >= len(examples) / 2
    model_dir = Path(out_dir) / "model"
    model_dir.mkdir(parents=True, exist_ok=True)
    (model_dir / MODEL_FILE).write_text(json.dumps({"upper": upper}))
    rows = val_rows or []
    val = sum(predict_one(upper, r.input) == r.output for r in rows) / len(rows) if rows else None
    return TrainResult(path=str(model_dir), train_s=round(time.perf_counter() - started, 3), examples_per_s=0.0,
                       n_train=len(examples), n_val=len(rows), best_val=val, epochs_run=1.0, batch_size=len(examples))


def predict_one(upper: bool, text: str) -> str:
    return text.upper() if upper else text


def predict(model_dir: str | Path, texts: list[str]) -> list[str]:
    upper = json.loads((Path(model_dir) / MODEL_FILE).read_text())["upper"]
    return [predict_one(upper, t) for t in texts]


def score(task: TaskSpec, preds: list[str], golds: list[str], inputs: Optional[list[str]] = None,
          gold_lists: Optional[list[Any]] = None) -> Metrics:
    exact = sum(p == g for p, g in zip(preds, golds)) / len(golds) if golds else 0.0
    return Metrics(name="exact_match", value=round(exact, 4), n=len(golds))


FAMILY = FAMILIES.get("shout") or register(Family(
    name="shout", train=train, predict=predict, score=score,
    fit_baseline=lambda task, demos: {"upper": False},
    predict_baseline=lambda params, texts: [predict_one(params["upper"], t) for t in texts],
    max_length=64, search_words="shouting", parse_hint="the input in capitals", hub_tags=(),
    pipeline_tag="text2text-generation", default_metric="exact_match", aliases=("capitals",)))
