"""The shared fine-tuning routine of every family's trainer: validation hold-out, schedule, Trainer
arguments, early stopping, resumable checkpoints and an atomic save (transformers' Trainer; runs
under accelerate/torchrun as is)."""
from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Optional

from p2m.core.config import TrainConfig
from p2m.core.schemas import Example
from p2m.tools.training.memory import plan_memory, release_memory

logger = logging.getLogger(__name__)


class TrainingError(ValueError):
    """Training data or settings that cannot produce a model."""


@dataclass
class TrainResult:
    path: str
    train_s: float
    examples_per_s: float
    n_train: int
    n_val: int
    best_val: Optional[float]
    epochs_run: float
    batch_size: int
    loss_curve: list[dict[str, float]] = field(default_factory=list)
    kind: str = "finetuned"
    """"finetuned", or "head" for logistic regression on frozen sentence embeddings."""
    head_val: Optional[float] = None
    """The head's validation accuracy, when one was fitted (classification)."""
    candidates: dict[str, Optional[float]] = field(default_factory=dict)
    """Every classification student tried, by name ("head:minilm", "head:mpnet", "finetuned"),
    with its validation accuracy: what the kept one was chosen over."""
    rival_estimate_s: Optional[float] = None
    """Estimated seconds of fine-tuning the rival encoder whose head won, when they were weighed
    against the time left (classification under "auto")."""


def split_validation(examples: list[Example], fraction: float, seed: int,
                     stratify: bool) -> tuple[list[Example], list[Example]]:
    """Hold out a validation share (stratified by label when every label has two rows)."""
    if fraction <= 0 or len(examples) < 10:
        return examples, []
    from sklearn.model_selection import train_test_split

    labels = [e.output for e in examples] if stratify else None
    if labels is not None:
        counts: dict[str, int] = {}
        for label in labels:
            counts[label] = counts.get(label, 0) + 1
        if min(counts.values()) < 2:
            labels = None
    n_val = max(2, int(round(len(examples) * fraction)))
    if labels is not None:
        n_val = max(n_val, len(set(labels)))
    train, val = train_test_split(examples, test_size=n_val, random_state=seed, stratify=labels)
    return list(train), list(val)


def hold_out(examples: list[Example], val_rows: Optional[list[Example]], cfg: TrainConfig,
             stratify: bool) -> tuple[list[Example], list[Example]]:
    """(training rows, validation rows): the given validation rows, else a held-out share."""
    if val_rows is not None:
        return examples, val_rows
    return split_validation(examples, cfg.val_fraction, cfg.seed, stratify=stratify)


def schedule(n_rows: int, cfg: TrainConfig) -> tuple[int, float]:
    """Batch size and epochs so that the optimiser takes at least `cfg.min_steps` steps.

    The batch is halved first (down to 8), then epochs are added (up to `cfg.max_epochs`): on
    800 SQuAD rows, batch 8 for 2 epochs reached F1 0.27 in 305 s where batch 32 reached 0.10 in
    387 s; a CPU processes small batches nearly as fast per row, and more updates is what small
    data needs.
    """
    batch_size = max(1, cfg.batch_size)
    while batch_size > 8 and math.ceil(n_rows / batch_size) * cfg.epochs < cfg.min_steps:
        batch_size //= 2
    batch_size = max(batch_size, min(8, cfg.batch_size))  # halving 12 gives 6: stop at 8
    steps_per_epoch = max(1, math.ceil(n_rows / batch_size))
    epochs = cfg.epochs
    if steps_per_epoch * epochs < cfg.min_steps:
        epochs = min(cfg.max_epochs, float(math.ceil(cfg.min_steps / steps_per_epoch)))
    return batch_size, epochs


def last_complete_checkpoint(ckpt_dir: Path) -> Optional[str]:
    """The newest checkpoint that was fully written; ones cut short by a kill are removed.

    The Trainer writes a checkpoint folder file by file, trainer_state.json among the last, so a
    kill -9 mid-save leaves a folder that `resume_from_checkpoint` cannot load.
    """
    import shutil

    if not ckpt_dir.is_dir():
        return None
    found = sorted((p for p in ckpt_dir.glob("checkpoint-*") if p.name.split("-")[-1].isdigit()),
                   key=lambda p: int(p.name.split("-")[-1]), reverse=True)
    for path in found:
        weights = any((path / name).is_file() for name in ("model.safetensors", "pytorch_model.bin"))
        if weights and (path / "trainer_state.json").is_file() and (path / "optimizer.pt").is_file() \
                and (path / "scheduler.pt").is_file():
            return str(path)
        shutil.rmtree(path, ignore_errors=True)
    return None


def save_atomically(trainer: Any, tokenizer: Any, model_dir: Path) -> Path:
    """Save into a sibling temporary folder, then rename: a full disk never leaves half a model."""
    import shutil

    if hasattr(trainer, "is_world_process_zero") and not trainer.is_world_process_zero():
        trainer.accelerator.wait_for_everyone()  # under torchrun/accelerate only rank 0 writes
        return model_dir
    partial = model_dir.with_name(model_dir.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    try:
        trainer.save_model(str(partial))
        tokenizer.save_pretrained(str(partial))
        shutil.rmtree(model_dir, ignore_errors=True)
        partial.rename(model_dir)
    except OSError as exc:
        shutil.rmtree(partial, ignore_errors=True)
        raise TrainingError(f"could not save the model to {model_dir}: {exc} "
                            "(the training checkpoints are kept; free space and resume)") from exc
    if hasattr(trainer, "accelerator") and trainer.args.world_size > 1:
        trainer.accelerator.wait_for_everyone()
    return model_dir


def trainer_args(out_dir: Path, cfg: TrainConfig, batch_size: int, epochs: float, progress: bool,
                 model: Any = None, seq_len: int = 0, **overrides: Any) -> Any:
    """TrainingArguments shared by the families: per-epoch checkpoints (resumable), CPU unless
    launched under torchrun/accelerate, batch size halved on out-of-memory. With `model` and
    `seq_len`, the per-step batch, gradient accumulation and checkpointing are fitted to the
    memory budget first (`tools/training/memory.py`): on a CPU the kernel kills before any back-off."""
    from transformers import TrainingArguments

    settings: dict[str, Any] = dict(
        output_dir=str(out_dir / "checkpoints"), num_train_epochs=epochs, learning_rate=cfg.learning_rate,
        per_device_train_batch_size=batch_size, weight_decay=0.01, save_strategy="epoch",
        save_total_limit=2, logging_steps=10, report_to=[], seed=cfg.seed, use_cpu=True,
        disable_tqdm=not progress, auto_find_batch_size=True, dataloader_num_workers=0)
    if model is not None and seq_len:
        plan = plan_memory(model, batch_size, seq_len)
        logger.info("memory plan: %s", plan.as_dict())
        settings.update(plan.trainer_settings(), gradient_checkpointing_kwargs={"use_reentrant": False})
    settings.update(overrides)
    return TrainingArguments(**settings)


def early_stopping(cfg: TrainConfig, epochs: float, validating: bool,
                   metric: str = "loss") -> tuple[dict[str, Any], list[Any]]:
    """TrainingArguments settings and callbacks shared by the families: with validation rows,
    evaluate every epoch on `metric` (the validation loss unless a family has a better one),
    checkpoint only improvements (saving model and optimiser every epoch cost ~10% of the
    training time on a CPU), stop after `cfg.early_stopping_patience` epochs without one (a
    quarter of the epochs for long schedules) and end on the best checkpoint."""
    from transformers import EarlyStoppingCallback

    if not validating:
        return {"eval_strategy": "no", "save_strategy": "epoch"}, []
    settings = dict(eval_strategy="epoch", save_strategy="best", load_best_model_at_end=True,
                    metric_for_best_model=metric, greater_is_better=metric != "loss",
                    # on the loss, keep no logits: a decoder's full-vocabulary logits for the
                    # validation rows are what once grew a run to 24 GB
                    prediction_loss_only=metric == "loss")
    return settings, [EarlyStoppingCallback(max(cfg.early_stopping_patience, round(epochs / 4)))]


def finetune(model: Any, tokenizer: Any, train_ds: Any, val_ds: Any, collator: Any, out_dir: Path,
             cfg: TrainConfig, n_train: int, val_rows: list[Example], progress: bool, seq_len: int, *,
             metric: str = "loss", compute_metrics: Any = None, score_val: Optional[Any] = None,
             before_save: Optional[Any] = None, extra_epochs: bool = True, warmup_share: float = 0.0,
             settings: Optional[dict[str, Any]] = None,
             overrides: Optional[dict[str, Any]] = None) -> tuple[TrainResult, Any]:
    """The one fine-tuning sequence every family's trainer runs on its own model and datasets:
    schedule (`extra_epochs=False`: no epochs added for small data), early stopping on `metric`,
    TrainingArguments fitted to the memory budget (the family's `settings`, then the caller's
    `overrides`), the Trainer, then `fit_and_save`. Returns the result and the Trainer."""
    from transformers import Trainer

    batch_size, epochs = schedule(n_train, cfg if extra_epochs else replace(cfg, max_epochs=cfg.epochs))
    stopping, callbacks = early_stopping(cfg, epochs, val_ds is not None, metric=metric)
    extra = dict(settings or {})
    if warmup_share:
        extra["warmup_steps"] = int(warmup_share * epochs * n_train / batch_size)
    args = trainer_args(out_dir, cfg, batch_size, epochs, progress, model=model, seq_len=seq_len,
                        **{**extra, **stopping, **(overrides or {})})
    trainer = Trainer(model=model, args=args, train_dataset=train_ds, eval_dataset=val_ds, data_collator=collator,
                      processing_class=tokenizer, compute_metrics=compute_metrics, callbacks=callbacks)
    return fit_and_save(trainer, tokenizer, out_dir, n_train, val_rows, score_val, before_save), trainer


def fit_and_save(trainer: Any, tokenizer: Any, out_dir: Path, n_train: int, val_rows: list[Example],
                 score_val: Optional[Any] = None, before_save: Optional[Any] = None) -> TrainResult:
    """Train (continuing from the last complete checkpoint), save atomically, score validation
    rows with `score_val(model_dir, rows)` (without it, the Trainer's best evaluation), and report."""
    started = time.perf_counter()
    silence_logs(trainer)
    trainer.train(resume_from_checkpoint=last_complete_checkpoint(out_dir / "checkpoints"))
    train_s = time.perf_counter() - started
    if before_save is not None:
        before_save(trainer)
    model_dir = save_atomically(trainer, tokenizer, out_dir / "model")
    if score_val and val_rows:
        release_model(trainer)  # scored from disk: two copies of a 0.5B decoder once held 7.8 GiB
        val = score_val(model_dir, val_rows)
    else:
        val = trainer.state.best_metric
    curve = [{"step": h["step"], "loss": h["loss"]} for h in trainer.state.log_history if "loss" in h]
    return TrainResult(path=str(model_dir), train_s=round(train_s, 2),
                       examples_per_s=examples_per_second(trainer, n_train, train_s),
                       n_train=n_train, n_val=len(val_rows), best_val=val,
                       epochs_run=round(float(trainer.state.epoch or 0), 2),
                       batch_size=used_batch_size(trainer), loss_curve=curve)


def release_model(trainer: Any) -> None:
    """Free a saved model's weights, optimiser and accelerator references. The weights move to
    the meta device in place, so a family's own reference to the module keeps nothing resident;
    the Trainer keeps its state (log history, best metric) but can no longer train or predict."""
    model = trainer.model
    trainer.accelerator.free_memory()
    trainer.model = trainer.model_wrapped = trainer.optimizer = trainer.lr_scheduler = None
    if model is not None:
        model.to("meta")
    release_memory()


def silence_logs(trainer: Any) -> None:
    """Without progress bars the Trainer prints every log dict on stdout; a quiet run keeps
    stdout for its results (the losses are kept in the log history and train.json)."""
    from transformers.trainer_callback import PrinterCallback

    if trainer.args.disable_tqdm:
        trainer.remove_callback(PrinterCallback)


def used_batch_size(trainer: Any) -> int:
    """The batch size training ended with: accelerate's out-of-memory back-off lowers the
    Trainer's `_train_batch_size`, not the arguments."""
    return int(getattr(trainer, "_train_batch_size", 0) or trainer.args.per_device_train_batch_size)


def examples_per_second(trainer: Any, n_rows: int, train_s: float) -> float:
    """Training rows processed per second, counting the epochs really run.

    The Trainer's own `train_samples_per_second` divides the *planned* epochs' rows by the run
    time, so it overstates the speed of a run that early stopping cut short.
    """
    epochs = float(trainer.state.epoch or 0)
    return round(epochs * n_rows / train_s, 2) if train_s > 0 else 0.0
