"""A memory budget for training: estimate the peak before the Trainer starts, fit the batch to it.

On a CPU the kernel kills a process that runs out of memory before any exception is raised, so
the Trainer's own out-of-memory back-off never gets its turn: a 0.5B decoder at batch 32 x 192
tokens grew to 24 GB and was killed. The estimate (fp32) counts the weights, the gradients and
Adam moments of the trainable ones, the activations (Korthikanti et al. 2022, sbh(34 + 5as/h)
bytes at half precision, doubled for fp32) and, for a language-model head, the logits three times
over (logits, their float log-softmax, their gradient: batch x length x vocabulary x 4 B each).
"""
from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from typing import Any, Optional

GB = 1024 ** 3
BUDGET_SHARE = 0.6  # of the memory available when training starts; the rest is headroom
PROCESS_PEAK_GB = 8.0  # the whole process's peak a CPU budget aims under, whatever it holds already
UNCOUNTED_GB = 1.5  # what the estimate leaves out: libraries' working memory, data, transient copies
ENV_BUDGET = "P2M_MEMORY_GB"  # a fixed budget in GiB (bigger machines, shared machines, tests)


class MemoryBudgetError(RuntimeError):
    """Training cannot fit the memory budget even at batch 1 with gradient checkpointing."""


@dataclass
class MemoryPlan:
    batch_size: int  # per device and step
    grad_accum: int  # steps per optimiser update, so batch_size x grad_accum stays the asked batch
    gradient_checkpointing: bool
    estimate_gb: float
    budget_gb: float

    def trainer_settings(self) -> dict[str, Any]:
        return {"per_device_train_batch_size": self.batch_size,
                "gradient_accumulation_steps": self.grad_accum,
                "gradient_checkpointing": self.gradient_checkpointing}

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def budget_bytes(model: Any = None) -> int:
    """$P2M_MEMORY_GB when set, else a share of the memory available now (the GPU's when training
    runs on one); on a CPU at most what keeps the process under PROCESS_PEAK_GB, counting what it
    already holds besides `model`'s weights (a run's teacher, its caches: a CoNaLa run that
    budgeted training as if alone peaked at 12.6 GB)."""
    if os.environ.get(ENV_BUDGET):
        try:
            return int(float(os.environ[ENV_BUDGET]) * GB)
        except ValueError:
            raise MemoryBudgetError(f"{ENV_BUDGET}={os.environ[ENV_BUDGET]!r} is not a number of GiB") from None
    import psutil
    import torch

    if torch.cuda.is_available():
        return int(torch.cuda.mem_get_info()[0] * BUDGET_SHARE)
    room = (PROCESS_PEAK_GB - UNCOUNTED_GB) * GB - held_besides(model)
    return int(max(0.0, min(psutil.virtual_memory().available * BUDGET_SHARE, room)))


def held_besides(model: Any = None) -> int:
    """Resident bytes of this process other than `model`'s parameters (already loaded, they are
    counted by the estimate)."""
    import psutil

    weights = sum(p.numel() * p.element_size() for p in model.parameters()) if model is not None else 0
    return max(0, psutil.Process().memory_info().rss - weights)


def release_memory() -> None:
    """Collect garbage and hand freed heap back to the system. glibc keeps freed memory mapped:
    after a trained 0.5B decoder was dropped the process still held 4.8 GiB, 1.8 after the trim."""
    import ctypes
    import ctypes.util
    import gc

    gc.collect()
    try:
        ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: nothing to trim
        pass


def _shape(model: Any) -> tuple[int, int, int, int, int]:
    """(parameters, trainable parameters, hidden size, layers, attention heads)."""
    config = getattr(model, "config", None)
    get = lambda *names, default=0: next((int(getattr(config, n)) for n in names  # noqa: E731
                                          if getattr(config, n, None)), default)
    params = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return (params, trainable, get("hidden_size", "d_model", "dim", default=768),
            get("num_hidden_layers", "n_layers", "num_layers", default=12),
            get("num_attention_heads", "n_heads", default=12))


def _vocab_head(model: Any) -> int:
    """Width of the output layer when it is a language-model head (0 for a small task head)."""
    try:
        head = model.get_output_embeddings()
    except (AttributeError, NotImplementedError):
        head = None
    return int(getattr(getattr(model, "config", None), "vocab_size", 0) or 0) if head is not None else 0


def estimate_bytes(model: Any, batch_size: int, seq_len: int, gradient_checkpointing: bool = False) -> int:
    """Peak training memory of `model` at this batch and sequence length (fp32, Adam)."""
    params, trainable, hidden, layers, heads = _shape(model)
    static = 4 * params + 12 * trainable  # weights; gradients + two Adam moments
    tokens = batch_size * seq_len
    full_layer = tokens * (68 * hidden) + batch_size * 10 * heads * seq_len * seq_len
    if gradient_checkpointing:  # each layer keeps its input; one layer is recomputed at a time
        activations = layers * tokens * hidden * 4 + full_layer
    else:
        activations = layers * full_layer
    logits = 3 * tokens * _vocab_head(model) * 4
    return static + activations + logits


def plan_memory(model: Any, batch_size: int, seq_len: int, budget: Optional[int] = None) -> MemoryPlan:
    """The largest per-step batch (halving from `batch_size`) whose estimate fits the budget, with
    gradient accumulation keeping the asked batch; gradient checkpointing only when batch 1
    does not fit without it. Raises MemoryBudgetError naming the numbers when nothing fits."""
    budget = budget_bytes(model) if budget is None else budget
    batch_size = max(1, batch_size)
    for checkpointing in (False, True):
        batch = batch_size
        while batch >= 1:
            need = estimate_bytes(model, batch, seq_len, checkpointing)
            if need <= budget:
                return MemoryPlan(batch_size=batch, grad_accum=-(-batch_size // batch),
                                  gradient_checkpointing=checkpointing,
                                  estimate_gb=round(need / GB, 2), budget_gb=round(budget / GB, 2))
            batch //= 2
    need = estimate_bytes(model, 1, seq_len, True)
    raise MemoryBudgetError(
        f"training needs about {need / GB:.1f} GiB at batch 1 x {seq_len} tokens with gradient "
        f"checkpointing, over the budget of {budget / GB:.1f} GiB ({int(BUDGET_SHARE * 100)}% of "
        f"the memory available, at most what keeps this process under {PROCESS_PEAK_GB:g} GiB with "
        f"what it holds already; ${ENV_BUDGET} sets it): choose a smaller model (`--model`), free "
        f"memory or raise ${ENV_BUDGET}")
