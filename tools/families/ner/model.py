"""Named entities: an encoder with a token-classification head over BIO tags.

Examples keep NER as text: input = whitespace-separated tokens, output = 'type: mention; ...'
(or 'none'), so retrieved, generated and user rows look alike. Training turns each output into
BIO tags on the input's tokens; prediction turns tags back into that text.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

from p2m.core.config import TrainConfig
from p2m.core.schemas import Example
from p2m.tools.families.ner.metric import parse_entities, entity_metrics
from p2m.tools.training.finetune import TrainingError, TrainResult, finetune, hold_out

MAX_LENGTH = 128  # tokens, when TrainConfig.max_length is not set


def bio_tags(tokens: list[str], output: str) -> list[str]:
    """BIO tags for `tokens` from 'type: mention; ...'; each mention takes its first free match."""
    tags = ["O"] * len(tokens)
    for kind, mention in parse_entities(output):
        words = mention.split()
        for i in range(len(tokens) - len(words) + 1):
            if tokens[i:i + len(words)] == words and all(t == "O" for t in tags[i:i + len(words)]):
                tags[i] = f"B-{kind}"
                for k in range(i + 1, i + len(words)):
                    tags[k] = f"I-{kind}"
                break
    return tags


def entities_text(tokens: list[str], tags: list[str]) -> str:
    """'type: mention; ...' (or 'none') from BIO tags; a stray I- starts a new entity."""
    found: list[tuple[str, list[str]]] = []
    prev = "O"
    for token, tag in zip(tokens, tags):
        if tag.startswith("I-") and prev != "O" and found and found[-1][0] == tag[2:]:
            found[-1][1].append(token)
        elif tag != "O":
            found.append((tag[2:], [token]))
        prev = tag
    return "; ".join(f"{kind}: {' '.join(words)}" for kind, words in found) or "none"


def tag_set(examples: list[Example], types: list[str]) -> list[str]:
    kinds = sorted(set(types) | {k for e in examples for k, _ in parse_entities(e.output)})
    return ["O"] + [f"{p}-{k}" for k in kinds for p in ("B", "I")]


def _encode(tokenizer: Any, examples: list[Example], label2id: dict[str, int], max_length: int) -> Any:
    from datasets import Dataset

    tokens = [e.input.split() for e in examples]
    enc = tokenizer(tokens, is_split_into_words=True, truncation=True, max_length=max_length)
    labels = []
    for i, e in enumerate(examples):
        tags = bio_tags(tokens[i], e.output)
        previous, row = None, []
        for word in enc.word_ids(i):
            row.append(-100 if word is None or word == previous else label2id[tags[word]])
            previous = word
        labels.append(row)
    return Dataset.from_dict({**dict(enc), "labels": labels})


def train_ner(model_path: str, examples: list[Example], types: list[str], out_dir: str | Path,
              cfg: TrainConfig, progress: bool = True, val_rows: Optional[list[Example]] = None,
              **trainer_overrides: Any) -> TrainResult:
    """Fine-tune a token-classification head, stopping early on the validation loss; the
    reported validation score is entity-level F1."""
    from transformers import (AutoModelForTokenClassification, AutoTokenizer, DataCollatorForTokenClassification,
                              set_seed)

    if len(examples) < 2:
        raise TrainingError(f"only {len(examples)} NER training rows")
    labels = tag_set(examples, types)
    label2id = {t: i for i, t in enumerate(labels)}
    train_ex, val_ex = hold_out(examples, val_rows, cfg, stratify=False)
    set_seed(cfg.seed)
    out_dir = Path(out_dir)
    tokenizer = AutoTokenizer.from_pretrained(model_path)
    model = AutoModelForTokenClassification.from_pretrained(
        model_path, num_labels=len(labels), id2label=dict(enumerate(labels)), label2id=label2id)
    length = cfg.max_length or MAX_LENGTH
    model.config.p2m_max_length = length  # prediction truncates as training did
    val_ds = _encode(tokenizer, val_ex, label2id, length) if val_ex else None
    return finetune(model, tokenizer, _encode(tokenizer, train_ex, label2id, length), val_ds,
                    DataCollatorForTokenClassification(tokenizer), out_dir, cfg, len(train_ex), val_ex, progress,
                    length, score_val=_score, overrides=trainer_overrides)[0]


def _score(model_dir: Path, rows: list[Example]) -> float:
    return entity_metrics(predict_ner(model_dir, [e.input for e in rows]), [e.output for e in rows]).value


def predict_ner(model_dir: str | Path, texts: list[str], batch_size: int = 32) -> list[str]:
    """'type: mention; ...' per input, from the tag of each word's first sub-token."""
    import torch
    from transformers import AutoModelForTokenClassification, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    model = AutoModelForTokenClassification.from_pretrained(str(model_dir)).eval()
    id2label = model.config.id2label
    length = getattr(model.config, "p2m_max_length", MAX_LENGTH)
    out = []
    with torch.inference_mode():
        for start in range(0, len(texts), batch_size):
            tokens = [t.split() for t in texts[start:start + batch_size]]
            enc = tokenizer(tokens, is_split_into_words=True, truncation=True, max_length=length,
                            padding=True, return_tensors="pt")
            ids = model(**enc).logits.argmax(-1).tolist()
            for i, words in enumerate(tokens):
                tags = ["O"] * len(words)
                seen = set()
                for pos, word in enumerate(enc.word_ids(i)):
                    if word is not None and word not in seen:
                        seen.add(word)
                        tags[word] = id2label[int(ids[i][pos])]
                out.append(entities_text(words, tags))
    return out
