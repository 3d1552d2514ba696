"""What a task family is, and the registry that each family's module adds itself to once.

Everything family-specific lives in that family's folder (`classification/`, `extractive_qa/`,
`ner/`, `text2text/`: its `Family` in `__init__.py`, its trainer and predictor in `model.py`, its
metric in `metric.py`); the rest of p2m asks the registry (`family(task.task_type)`) instead of
branching on family names. Adding a family = one folder whose `__init__.py` registers its
`Family` (with its default metric and aliases: the task type becomes valid in `TaskSpec`),
imported from `families/__init__.py` or from anywhere (tests/toy_family is one), + its test.
Every metric is a fraction in [0, 1], as accuracy is, so one target scale fits all families.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

from p2m.core.schemas import Example, Metrics, TaskSpec, add_task_type

MAX_FAILURES = 50  # wrong rows kept per scoring, for the error view and error-driven generation


def failing_examples(inputs: Optional[Sequence[str]], preds: Sequence[str], golds: Sequence[str],
                     wrong: Sequence[bool]) -> list[dict[str, str]]:
    """The first MAX_FAILURES wrong rows as {input, expected, predicted} (inputs cut at 2,000 chars)."""
    out = []
    for i, bad in enumerate(wrong):
        if bad and len(out) < MAX_FAILURES:
            out.append({"input": (inputs[i] if inputs else "")[:2000], "expected": golds[i],
                        "predicted": preds[i]})
    return out


@dataclass(frozen=True)
class Family:
    """One task family: how its student trains, predicts and is scored, and how it is named
    by the Hub, by dataset cards and by exported models."""

    name: str
    """The `TaskSpec.task_type` it serves."""
    train: Callable[..., Any]
    """(task, model_path, examples, out_dir, cfg, progress, val_rows, **trainer_overrides) -> TrainResult."""
    predict: Callable[[str | Path, list[str]], list[str]]
    """(model_dir, texts) -> outputs of a saved student."""
    score: Callable[..., Metrics]
    """(task, preds, golds, inputs, gold_lists) -> the family's metrics (headline first)."""
    fit_baseline: Callable[[TaskSpec, list[Example]], dict[str, Any]]
    """The demonstrations-only baseline's JSON parameters from the demonstrations alone."""
    predict_baseline: Callable[[dict[str, Any], list[str]], list[str]]
    """(those parameters, texts) -> outputs."""
    max_length: int
    """Tokens per training row when `TrainConfig.max_length` is not set."""
    search_words: str
    """The family in plain words, so that a query can match dataset cards of this type."""
    parse_hint: str
    """What its outputs are, for the prompt that reads a task from free text."""
    hub_tags: tuple[str, ...]
    """Hugging Face `task_categories` that mean this family."""
    pipeline_tag: str
    """The exported model card's pipeline tag."""
    encoder: bool = True
    """Its student is an encoder with a task head (else a decoder, tuned with LoRA)."""
    export_head: Optional[str] = None
    """The transformers AutoModel class that ONNX export loads (None: no ONNX export)."""
    export_outputs: tuple[str, ...] = ("logits",)
    """Output names of the exported graph."""
    default_metric: str = "accuracy"
    """The metric a task's target defaults to (the first of `score`'s metrics, by name)."""
    aliases: tuple[str, ...] = ()
    """Other names datasets and users give the family ("qa", "token-classification")."""


FAMILIES: dict[str, Family] = {}


def register(fam: Family) -> Family:
    """Add a family (its module does this once, at import)."""
    if fam.name in FAMILIES:
        raise ValueError(f"task family {fam.name!r} is registered twice")
    FAMILIES[fam.name] = fam
    add_task_type(fam.name, fam.default_metric, fam.aliases)
    return fam


def family(task_type: str) -> Family:
    """The registered family of `task_type`, or ValueError naming the known ones."""
    try:
        return FAMILIES[task_type]
    except KeyError:
        raise ValueError(f"unknown task family {task_type!r}; known: {', '.join(sorted(FAMILIES))}") from None


def lazy(path: str) -> Callable[..., Any]:
    """The function at `module:name`, imported on its first call: registering a family loads
    neither torch nor transformers."""
    module, _, name = path.partition(":")

    def call(*args: Any, **kwargs: Any) -> Any:
        return getattr(importlib.import_module(module), name)(*args, **kwargs)

    call.__name__ = name
    return call


def trainer(path: str, labelled: bool = False, timed: bool = False) -> Callable[..., Any]:
    """`Family.train` from a trainer `(model_path, examples, [labels,] out_dir, cfg, progress,
    val_rows=..., [seconds_left=...,] **overrides)`; `labelled` passes the task's labels (or
    entity types), `timed` the run's seconds left (a trainer whose choices depend on time)."""
    fn = lazy(path)

    def train(task: TaskSpec, model_path: str, examples: list[Example], out_dir: str | Path, cfg: Any,
              progress: bool = True, val_rows: Optional[list[Example]] = None,
              seconds_left: Optional[float] = None, **overrides: Any) -> Any:
        labels = (task.labels or [],) if labelled else ()
        timing = {"seconds_left": seconds_left} if timed else {}
        return fn(model_path, examples, *labels, out_dir, cfg, progress, val_rows=val_rows, **timing, **overrides)

    return train


def scorer(path: str) -> Callable[..., Metrics]:
    """`Family.score` from a metric `(preds, golds, inputs)`."""
    fn = lazy(path)

    def score(task: TaskSpec, preds: list[str], golds: list[str], inputs: Optional[list[str]] = None,
              gold_lists: Optional[list[Any]] = None) -> Metrics:
        return fn(preds, golds, inputs)

    return score
