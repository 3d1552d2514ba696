"""Text-to-text (code, normalisation, summaries) with a decoder-only LM, LoRA when it is large.

Each example becomes a prompt and '<y><eos>' with the loss on <y> only. The prompt is the
model's own chat template around the input when it has one (an instruct model starts from what
it already does), else 'Input: <x>\\nOutput: '. A model stored as
GGUF (the local Qwen2.5-Coder) is loaded dequantised by transformers; models over
`LORA_ABOVE` parameters (or as `TrainConfig.lora` says) are tuned through peft LoRA adapters
with `TrainConfig`'s LoRA settings, merged before saving.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

from p2m.core.config import TrainConfig
from p2m.core.schemas import Example
from p2m.tools.training.finetune import TrainingError, TrainResult, finetune, hold_out
from p2m.tools.training.memory import release_memory
from p2m.tools.families.text2text.metric import generation_metrics

LORA_ABOVE = 100_000_000
MAX_LENGTH = 192  # tokens, when TrainConfig.max_length is not set


def prompt_for(text: str, tokenizer: Any = None) -> str:
    if tokenizer is not None and getattr(tokenizer, "chat_template", None):
        return tokenizer.apply_chat_template([{"role": "user", "content": text}], tokenize=False,
                                             add_generation_prompt=True)
    return f"Input: {text}\nOutput: "


def load_causal(model_path: str) -> tuple[Any, Any]:
    """(tokenizer, model) from a transformers folder or a .gguf file (dequantised)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path = Path(model_path)
    kwargs: dict[str, Any] = {}
    if path.suffix == ".gguf":
        kwargs["gguf_file"] = path.name
        path = path.parent
    tokenizer = AutoTokenizer.from_pretrained(str(path), **kwargs)
    model = AutoModelForCausalLM.from_pretrained(str(path), **kwargs)
    if "gguf_file" in kwargs:
        # The GGUF weights were dequantised to float on load; left marked as quantised, the
        # Trainer refuses to train them and save_pretrained records a GGUF config.
        model.is_quantized = False
        model.hf_quantizer = None
        if getattr(model.config, "quantization_config", None) is not None:
            del model.config.quantization_config
        release_memory()  # dequantising left ~1 GiB of freed copies resident
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer, model


def _encode(tokenizer: Any, examples: list[Example], max_length: int = MAX_LENGTH) -> Any:
    from datasets import Dataset

    rows: dict[str, list] = {"input_ids": [], "attention_mask": [], "labels": []}
    for e in examples:
        prompt = tokenizer(prompt_for(e.input, tokenizer), add_special_tokens=False)["input_ids"]
        target = tokenizer(e.output, add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
        ids = (prompt + target)[:max_length]
        labels = ([-100] * len(prompt) + target)[:max_length]
        rows["input_ids"].append(ids)
        rows["attention_mask"].append([1] * len(ids))
        rows["labels"].append(labels)
    return Dataset.from_dict(rows)


def _collate(pad_id: int):
    import torch

    def collate(batch: list[dict[str, list[int]]]) -> dict[str, Any]:
        width = max(len(b["input_ids"]) for b in batch)
        pad = lambda seq, v: seq + [v] * (width - len(seq))  # noqa: E731
        return {"input_ids": torch.tensor([pad(b["input_ids"], pad_id) for b in batch]),
                "attention_mask": torch.tensor([pad(b["attention_mask"], 0) for b in batch]),
                "labels": torch.tensor([pad(b["labels"], -100) for b in batch])}

    return collate


def train_seq2seq(model_path: str, examples: list[Example], out_dir: str | Path, cfg: TrainConfig,
                  progress: bool = True, lora: Optional[bool] = None,
                  val_rows: Optional[list[Example]] = None,
                  **trainer_overrides: Any) -> TrainResult:
    """Fine-tune a causal LM on input/output pairs; validation is chrF++ on held-out rows."""
    from transformers import set_seed

    if len(examples) < 2:
        raise TrainingError(f"only {len(examples)} text-to-text training rows")
    train_ex, val_ex = hold_out(examples, val_rows, cfg, stratify=False)
    set_seed(cfg.seed)
    out_dir = Path(out_dir)
    tokenizer, model = load_causal(model_path)
    n_params = sum(p.numel() for p in model.parameters())
    lora = cfg.lora if lora is None else lora
    use_lora = n_params > LORA_ABOVE if lora is None else lora
    if use_lora:
        from peft import LoraConfig, get_peft_model

        model = get_peft_model(model, LoraConfig(r=cfg.lora_r, lora_alpha=cfg.lora_alpha,
                                                 lora_dropout=cfg.lora_dropout,
                                                 target_modules="all-linear", task_type="CAUSAL_LM"))
    length = cfg.max_length or MAX_LENGTH

    def merge(t: Any) -> None:  # LoRA adapters folded into the weights before saving
        if use_lora:
            t.model = t.model.merge_and_unload()

    val_ds = _encode(tokenizer, val_ex, length) if val_ex else None
    return finetune(model, tokenizer, _encode(tokenizer, train_ex, length), val_ds, _collate(tokenizer.pad_token_id),
                    out_dir, cfg, len(train_ex), val_ex, progress, length, score_val=_score, before_save=merge,
                    # smaller batches for small data, but no extra epochs: a 0.6B model's step costs
                    # seconds on a CPU (160 CoNaLa rows at batch 32 made 5 optimiser steps an epoch)
                    extra_epochs=False,
                    settings=dict(weight_decay=0.0, remove_unused_columns=False, per_device_eval_batch_size=2,
                                  learning_rate=cfg.lora_learning_rate if use_lora else cfg.learning_rate),
                    overrides=trainer_overrides)[0]


def _score(model_dir: Path, rows: list[Example]) -> float:
    return generation_metrics(predict_seq2seq(model_dir, [e.input for e in rows]),
                              [e.output for e in rows]).value


def predict_seq2seq(model_dir: str | Path, texts: list[str], max_new_tokens: int = 64,
                    batch_size: int = 8) -> list[str]:
    """Greedy outputs, cut at the end-of-sequence token or the first line break."""
    import torch

    tokenizer, model = load_causal(str(model_dir))
    model.eval()
    tokenizer.padding_side = "left"
    out = []
    with torch.inference_mode():
        for start in range(0, len(texts), batch_size):
            prompts = [prompt_for(t, tokenizer) for t in texts[start:start + batch_size]]
            enc = tokenizer(prompts, return_tensors="pt", padding=True, add_special_tokens=False)
            gen = model.generate(**enc, max_new_tokens=max_new_tokens, do_sample=False,
                                 pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id)
            for row in gen[:, enc["input_ids"].shape[1]:]:
                text = tokenizer.decode(row, skip_special_tokens=True)
                out.append(text.split("\n")[0].strip())
    del model
    release_memory()
    return out
