"""Training the classification student: a head on frozen sentence embeddings (the chosen
encoder's, and rival encoders' under "auto") or an encoder fine-tuned with the shared routine
(`p2m.tools.training.finetune`: the chosen one, or under "auto" the rival whose head won when the
time left pays for it), whichever reads higher on validation."""
from __future__ import annotations

import json
import math
import os
import time
from dataclasses import replace
from pathlib import Path
from typing import Any, Optional

import numpy as np

from p2m.core.config import CLASSIFIERS, TrainConfig
from p2m.core.schemas import Example
from p2m.tools.families.classification import CLASSIFY_MAX_LENGTH
from p2m.tools.encoders import mpnet
from p2m.tools.encoders.embed import embedder_path, get_embedder
from p2m.tools.training.finetune import TrainingError, TrainResult, finetune, hold_out, schedule
from p2m.tools.training.head import accuracy, encoder_name, fit_linear, save_head

FINETUNE_TIME_SHARE = 0.5
"""A rival encoder is fine-tuned only when its estimated seconds fit this share of the time left."""
BACKWARD_COST = 3.0
"""A training row's seconds (forward, backward, update) against an inference forward pass's."""
ESTIMATE_ROWS = 32

def _accuracy(eval_pred: Any) -> dict[str, float]:
    logits, labels = eval_pred
    return {"accuracy": float((np.argmax(logits, axis=-1) == labels).mean())}


def is_sentence_encoder(model_path: str) -> bool:
    """A sentence-transformers folder (MiniLM, mpnet): its pooled embeddings are trained as
    sentence embeddings, so a linear head on them is a student; a plain encoder's are not."""
    return (Path(model_path) / "modules.json").is_file()


def fit_head_student(model_path: str, train_rows: list[Example], val_rows: list[Example],
                     soft: bool = False) -> tuple[dict[str, Any], Optional[float], float]:
    """Logistic regression on `model_path`'s frozen embeddings: (head, validation accuracy, s);
    with `soft`, from the teacher's distributions where rows carry them (`head.fit_linear`)."""
    started = time.perf_counter()
    head = fit_linear([r.input for r in train_rows], [r.output for r in train_rows],
                      encoder=encoder_name(model_path),
                      soft=[r.source.get("teacher_probs") for r in train_rows] if soft else None)
    val = (round(accuracy(head, [r.input for r in val_rows], [r.output for r in val_rows]), 4)
           if val_rows else None)
    return head, val, round(time.perf_counter() - started, 2)


def rival_encoders(model_path: str, names: tuple[str, ...]) -> list[str]:
    """The folders of the rival encoders named in `names` that are on disk (or installed, for
    mpnet's carriers) and are not `model_path` itself."""
    found = []
    for name in names:
        if name == "mpnet" and mpnet.carriers_installed():
            path = str(mpnet.mpnet_path())
        elif name != "mpnet" and is_sentence_encoder(name):
            path = name
        else:
            continue
        if Path(path).resolve() != Path(model_path).resolve():
            found.append(path)
    return found


def best_head(model_path: str, first: tuple[dict[str, Any], Optional[float], float], cfg: TrainConfig,
              train_rows: list[Example], val_rows: list[Example],
              tried: dict[str, Optional[float]]) -> tuple[dict[str, Any], Optional[float], float]:
    """The head with the best validation accuracy among the chosen encoder's (`first`) and the
    rivals' (`cfg.rival_heads`); a tie keeps the earlier. Seconds add up over all of them; each
    head's accuracy goes into `tried`."""
    best, spent = first, first[2]
    for path in rival_encoders(model_path, cfg.rival_heads):
        head, val, seconds = fit_head_student(path, train_rows, val_rows, cfg.soft_targets)
        spent += seconds
        tried[head_name(head)] = val
        if val is not None and (best[1] is None or val > best[1]):
            best = (head, val, seconds)
    return best[0], best[1], round(spent, 2)


def head_name(head: dict[str, Any]) -> str:
    """"head:minilm", "head:mpnet", or "head:<folder name>"."""
    encoder = str(head.get("encoder", "minilm"))
    return f"head:{Path(encoder).name}"


def epoch_seconds(path: str, train_rows: list[Example], n_val: int) -> float:
    """Seconds of one epoch of fine-tuning the sentence encoder at `path` on these rows: its
    forward seconds per row, timed on up to `ESTIMATE_ROWS` training texts, times `BACKWARD_COST`
    per training row plus one pass over the validation rows (measured on mpnet, one thread, 256
    SST-2 rows: 2.5 forward passes a training row)."""
    sample = [r.input for r in train_rows[:ESTIMATE_ROWS]]
    if not sample:
        return 0.0
    encoder = get_embedder(path)
    started = time.perf_counter()
    encoder.encode(sample, batch_size=ESTIMATE_ROWS, show_progress_bar=False)
    per_row = (time.perf_counter() - started) / len(sample)
    return per_row * (BACKWARD_COST * len(train_rows) + n_val)


def encoder_to_finetune(model_path: str, head: dict[str, Any], train_rows: list[Example], n_val: int,
                        cfg: TrainConfig, seconds_left: Optional[float]
                        ) -> tuple[str, TrainConfig, Optional[float]]:
    """What "auto" fine-tunes: the encoder, its settings, and the estimated seconds when a rival
    was weighed. With `cfg.finetune_rival` (off by default: no gain measured on SST-2's gold
    rows), the winning head's encoder when it is a rival's and at least one epoch of it fits
    `FINETUNE_TIME_SHARE` of `seconds_left` (the schedule's epochs, or as many as fit); else the
    chosen encoder as configured (always so without `seconds_left`: fold students, calls with no
    deadline). On SST-2 development rows fine-tuned mpnet read 0.901 where its head read 0.865
    and fine-tuned MiniLM 0.851, for 6x MiniLM's seconds (docs/students.md)."""
    encoder = str(head.get("encoder", "minilm"))
    rival = embedder_path(encoder)
    if not cfg.finetune_rival or seconds_left is None or Path(rival).resolve() == Path(model_path).resolve():
        return model_path, cfg, None
    per_epoch = epoch_seconds(rival, train_rows, n_val)
    _, epochs = schedule(len(train_rows), cfg)
    fit = min(epochs, math.floor(FINETUNE_TIME_SHARE * seconds_left / per_epoch)) if per_epoch > 0 else epochs
    if fit < 1:
        return model_path, cfg, round(epochs * per_epoch, 1)
    return rival, replace(cfg, epochs=float(fit), max_epochs=float(fit)), round(fit * per_epoch, 1)


def save_head_student(head: dict[str, Any], out_dir: Path, n_train: int, val_rows: list[Example],
                      val: Optional[float], train_s: float,
                      candidates: Optional[dict[str, Optional[float]]] = None) -> TrainResult:
    """The head as the job's model (`out_dir/model`); a fine-tuned model there moves to
    `out_dir/finetuned`. Written beside and renamed, as `save_atomically` does."""
    import shutil

    model_dir, partial = out_dir / "model", out_dir / "model.partial"
    if int(os.environ.get("RANK", "0")) == 0:  # under torchrun every rank fits it; rank 0 writes
        shutil.rmtree(partial, ignore_errors=True)
        save_head(head, partial)
        if model_dir.exists():
            shutil.rmtree(out_dir / "finetuned", ignore_errors=True)
            model_dir.rename(out_dir / "finetuned")
        partial.rename(model_dir)
    return TrainResult(path=str(model_dir), train_s=train_s,
                       examples_per_s=round(n_train / train_s, 2) if train_s > 0 else 0.0,
                       n_train=n_train, n_val=len(val_rows), best_val=val, epochs_run=0.0,
                       batch_size=0, kind="head", head_val=val, candidates=candidates or {})


def train_classifier(model_path: str, examples: list[Example], labels: list[str], out_dir: str | Path,
                     cfg: TrainConfig, progress: bool = True, val_rows: Optional[list[Example]] = None,
                     seconds_left: Optional[float] = None, **trainer_overrides: Any) -> TrainResult:
    """Train the classification student as `cfg.classifier` says: a head on frozen sentence
    embeddings, a fine-tuned encoder, or ("auto") the head first and fine-tuning only when the
    head is short of perfect on validation, the better of the two kept (ties: the head). Under
    "auto" the encoder fine-tuned is the winning head's when a rival's head won and the run's
    `seconds_left` pays for it (`encoder_to_finetune`).

    Fine-tuning adds a sequence-classification head; early stopping on validation accuracy;
    checkpoints under `out_dir/checkpoints` make an interrupted training resumable; the batch
    size halves itself on out-of-memory (accelerate's find_executable_batch_size, through
    `auto_find_batch_size`).
    """
    from datasets import Dataset
    from transformers import (AutoModelForSequenceClassification, AutoTokenizer, DataCollatorWithPadding,
                              set_seed)

    if cfg.classifier not in CLASSIFIERS:
        raise TrainingError(f"train.classifier must be {', '.join(CLASSIFIERS[:-1])} or {CLASSIFIERS[-1]}, "
                            f"not {cfg.classifier!r}")
    unknown = sorted({e.output for e in examples} - set(labels))
    if unknown:
        raise TrainingError(f"training outputs not in the label set {labels}: {unknown[:5]}")
    present = {e.output for e in examples}
    if len(present) < 2:
        raise TrainingError(f"training data has {len(present)} label(s) {sorted(present)}; need two or more")
    out_dir = Path(out_dir)
    set_seed(cfg.seed)
    label2id = {label: i for i, label in enumerate(labels)}
    train_rows, val_rows = hold_out(examples, val_rows, cfg, stratify=True)
    val_rows = [r for r in val_rows if r.output in label2id]

    head, tried = None, {}
    if cfg.classifier == "head" or (cfg.classifier == "auto" and is_sentence_encoder(model_path)):
        head, head_val, head_s = fit_head_student(model_path, train_rows, val_rows, cfg.soft_targets)
        tried[head_name(head)] = head_val
        if cfg.classifier == "auto" and head_val is not None and head_val < 1.0:
            head, head_val, head_s = best_head(model_path, (head, head_val, head_s), cfg, train_rows, val_rows,
                                               tried)
        if cfg.classifier == "head" or head_val is None or head_val >= 1.0:
            return save_head_student(head, out_dir, len(train_rows), val_rows, head_val, head_s, tried)

    tuned, estimate, key = model_path, None, "finetuned"
    if head is not None:
        tuned, cfg, estimate = encoder_to_finetune(model_path, head, train_rows, len(val_rows), cfg, seconds_left)
        key = "finetuned" if tuned == model_path else f"finetuned:{Path(encoder_name(tuned)).name}"
    tokenizer = AutoTokenizer.from_pretrained(tuned)
    model = AutoModelForSequenceClassification.from_pretrained(
        tuned, num_labels=len(labels), id2label=dict(enumerate(labels)), label2id=label2id)
    length = cfg.max_length or CLASSIFY_MAX_LENGTH
    model.config.p2m_max_length = length  # prediction truncates as training did

    def encode(rows: list[Example]) -> Dataset:
        ds = Dataset.from_dict({"text": [r.input for r in rows],
                                "label": [label2id[r.output] for r in rows]})
        return ds.map(lambda b: tokenizer(b["text"], truncation=True, max_length=length),
                      batched=True, remove_columns=["text"])

    result, trainer = finetune(model, tokenizer, encode(train_rows), encode(val_rows) if val_rows else None,
                               DataCollatorWithPadding(tokenizer), out_dir, cfg, len(train_rows), val_rows, progress,
                               length, metric="accuracy", compute_metrics=_accuracy, warmup_share=0.06,
                               settings=dict(per_device_eval_batch_size=64, data_seed=cfg.seed),
                               overrides=trainer_overrides)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "log_history.json").write_text(json.dumps(trainer.state.log_history, indent=1))
    tried[key] = None if result.best_val is None else round(result.best_val, 4)
    if head is not None:
        # the head's accuracy is rounded to 4 places: a tie (0.7833 against 0.78333) is a tie
        if result.best_val is None or head_val >= round(result.best_val, 4):
            kept = save_head_student(head, out_dir, len(train_rows), val_rows, head_val, head_s, tried)
            kept.rival_estimate_s = estimate
            return kept
        result.head_val = head_val
    result.candidates, result.rival_estimate_s = tried, estimate
    return result
