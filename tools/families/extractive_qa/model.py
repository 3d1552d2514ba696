"""Extractive QA: an encoder with a span head, trained and applied on 'Context: ..\\nQuestion: ..'."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Optional

import numpy as np

from p2m.core.config import TrainConfig
from p2m.core.schemas import Example
from p2m.tools.training.finetune import TrainingError, TrainResult, finetune, hold_out
from p2m.tools.families.extractive_qa.metric import qa_metrics

_QA = re.compile(r"^\s*Context:\s*(?P<context>.*?)\s*\n\s*Question:\s*(?P<question>.*?)\s*$", re.S)
MAX_LENGTH, STRIDE, MAX_ANSWER_TOKENS = 256, 64, 30


def split_qa(text: str) -> tuple[str, str]:
    """(context, question) from 'Context: ...\\nQuestion: ...'; else the last line is the question."""
    match = _QA.match(text)
    if match:
        return match["context"], match["question"]
    head, _, last = text.strip().rpartition("\n")
    return head.strip(), last.strip()


def answer_start(context: str, answer: str) -> int:
    start = context.find(answer)
    return start if start >= 0 else context.lower().find(answer.lower())


def _window(model: Any, wanted: int = 0) -> int:
    """Tokens per feature: `wanted` (TrainConfig.max_length), else what the model was trained
    with, else MAX_LENGTH; never beyond the model's positions."""
    wanted = wanted or getattr(model.config, "p2m_max_length", 0) or MAX_LENGTH
    return min(wanted, int(getattr(model.config, "max_position_embeddings", wanted)))


def _features(tokenizer: Any, rows: list[tuple[str, str, str]], train: bool, max_length: int) -> Any:
    from datasets import Dataset

    questions = [q for _, q, _ in rows]
    contexts = [c for c, _, _ in rows]
    enc = tokenizer(questions, contexts, truncation="only_second", max_length=max_length,
                    stride=min(STRIDE, max_length // 4),
                    return_overflowing_tokens=True, return_offsets_mapping=True,
                    padding=False if train else "max_length")  # training pads per batch
    mapping = enc.pop("overflow_to_sample_mapping")
    starts, ends, example_ids = [], [], []
    for i, offsets in enumerate(enc["offset_mapping"]):
        row = mapping[i]
        example_ids.append(row)
        seq = enc.sequence_ids(i)
        context, _, answer = rows[row]
        enc["offset_mapping"][i] = [o if seq[k] == 1 else (0, 0) for k, o in enumerate(offsets)]
        if not train:
            continue
        begin = answer_start(context, answer)
        finish = begin + len(answer)
        ctx_idx = [k for k, s in enumerate(seq) if s == 1]
        if begin < 0 or not ctx_idx or offsets[ctx_idx[0]][0] > begin or offsets[ctx_idx[-1]][1] < finish:
            starts.append(0)
            ends.append(0)  # the answer is not in this window: point at [CLS]
        else:
            s = next(k for k in ctx_idx if offsets[k][0] <= begin < offsets[k][1] or offsets[k][0] >= begin)
            e = next(k for k in reversed(ctx_idx) if offsets[k][0] < finish)
            starts.append(s)
            ends.append(max(s, e))
    data = dict(enc)
    if train:
        data.pop("offset_mapping")
        data.update(start_positions=starts, end_positions=ends)
    else:
        data["example_id"] = example_ids
    return Dataset.from_dict(data)


def qa_rows(examples: list[Example]) -> list[tuple[str, str, str]]:
    rows = []
    for e in examples:
        context, question = split_qa(e.input)
        if context and question and answer_start(context, e.output) >= 0:
            rows.append((context, question, e.output))
    return rows


def train_qa(model_path: str, examples: list[Example], out_dir: str | Path, cfg: TrainConfig,
             progress: bool = True, val_rows: Optional[list[Example]] = None,
             **trainer_overrides: Any) -> TrainResult:
    """Fine-tune an encoder with a span-prediction head; rows whose answer is not in the context
    are left out (they teach nothing an extractive model can do)."""
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer, DataCollatorWithPadding, set_seed

    train_ex, val_ex = hold_out(examples, val_rows, cfg, stratify=False)
    rows = qa_rows(train_ex)
    if len(rows) < 2:
        raise TrainingError(f"only {len(rows)} training rows have their answer inside the context")
    set_seed(cfg.seed)
    out_dir = Path(out_dir)
    tokenizer = AutoTokenizer.from_pretrained(model_path)
    model = AutoModelForQuestionAnswering.from_pretrained(model_path)
    window = _window(model, cfg.max_length or MAX_LENGTH)
    model.config.p2m_max_length = window  # prediction cuts features as training did
    val = qa_rows(val_ex)
    val_ds = _features(tokenizer, val, True, window) if val else None
    return finetune(model, tokenizer, _features(tokenizer, rows, True, window), val_ds,
                    DataCollatorWithPadding(tokenizer), out_dir, cfg, len(rows), val_ex, progress, window,
                    score_val=_score, overrides=trainer_overrides)[0]


def _score(model_dir: Path, rows: list[Example]) -> float:
    return qa_metrics(predict_qa(model_dir, [e.input for e in rows]), [e.output for e in rows]).value


def _blank(offset: Any) -> bool:
    """Offsets outside the context were zeroed by `_features`."""
    return offset[0] == 0 and offset[1] == 0


def predict_qa(model_dir: str | Path, texts: list[str], batch_size: int = 32) -> list[str]:
    """The best-scoring context span (at most 30 tokens) for each 'Context/Question' input."""
    import torch
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    model = AutoModelForQuestionAnswering.from_pretrained(str(model_dir)).eval()
    rows = [(*split_qa(t), "") for t in texts]
    feats = _features(tokenizer, rows, False, _window(model))
    best: dict[int, tuple[float, str]] = {}
    with torch.inference_mode():
        for start in range(0, len(feats), batch_size):
            chunk = feats[start:start + batch_size]
            inputs = {k: torch.tensor(chunk[k]) for k in ("input_ids", "attention_mask", "token_type_ids")
                      if k in chunk}
            out = model(**inputs)
            for j in range(len(chunk["input_ids"])):
                offsets, row = chunk["offset_mapping"][j], chunk["example_id"][j]
                s_logits, e_logits = out.start_logits[j].numpy(), out.end_logits[j].numpy()
                for s in np.argsort(s_logits)[-20:]:
                    for e in np.argsort(e_logits)[-20:]:
                        if _blank(offsets[s]) or _blank(offsets[e]) or e < s \
                                or e - s + 1 > MAX_ANSWER_TOKENS:
                            continue
                        score = float(s_logits[s] + e_logits[e])
                        if row not in best or score > best[row][0]:
                            best[row] = (score, rows[row][0][offsets[s][0]:offsets[e][1]])
    return [best.get(i, (0.0, ""))[1] for i in range(len(texts))]
