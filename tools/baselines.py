"""The demonstrations-only baseline: what a user gets in a minute without p2m.

- classification: all-MiniLM-L6-v2 sentence embeddings + logistic regression (SetFit-style,
  without the contrastive step);
- text2text: the output of the nearest demonstration (MiniLM cosine);
- extractive QA: the context sentence sharing most words with the question, less those words;
- NER: a gazetteer of the demonstrations' mentions, matched as whole words.

A baseline is saved as `baseline.json` (plain JSON, no pickle) in a model folder, and
`families.predict_for` runs it like a trained student.
"""
from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import numpy as np

from ..schemas import Example, TaskSpec
from .metrics import normalize_answer, parse_entities
from .qa import split_qa

BASELINE_FILE = "baseline.json"
NAME = "demonstrations-only"


def is_baseline(model_dir: str | Path) -> bool:
    return (Path(model_dir) / BASELINE_FILE).is_file()


def fit_baseline(task: TaskSpec, demos: list[Example]) -> dict[str, Any]:
    """The baseline's parameters (JSON-serialisable) from the demonstration rows alone."""
    if not demos:
        raise ValueError("the baseline needs at least one demonstration")
    spec: dict[str, Any] = {"kind": NAME, "task_type": task.task_type, "n_demos": len(demos)}
    if task.task_type == "classification":
        from sklearn.linear_model import LogisticRegression

        from .embed import embed

        labels = [d.output for d in demos]
        if len(set(labels)) < 2:
            return {**spec, "constant": labels[0]}
        clf = LogisticRegression(max_iter=2000).fit(embed([d.input for d in demos]), labels)
        return {**spec, "classes": [str(c) for c in clf.classes_], "coef": clf.coef_.tolist(),
                "intercept": clf.intercept_.tolist()}
    if task.task_type == "ner":
        gazetteer: dict[str, str] = {}
        for d in demos:
            for kind, mention in parse_entities(d.output):
                gazetteer.setdefault(mention, kind)
        return {**spec, "gazetteer": gazetteer}
    if task.task_type == "text2text":
        return {**spec, "demos": [[d.input, d.output] for d in demos]}
    return spec  # extractive QA: the heuristic has no parameters


def save_baseline(spec: dict[str, Any], model_dir: str | Path) -> Path:
    """Write the baseline into `model_dir` (a temporary file renamed into place)."""
    model_dir = Path(model_dir)
    model_dir.mkdir(parents=True, exist_ok=True)
    tmp = model_dir / (BASELINE_FILE + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(spec, f)
        f.flush()
        os.fsync(f.fileno())
    tmp.replace(model_dir / BASELINE_FILE)
    return model_dir


def load_baseline(model_dir: str | Path) -> dict[str, Any]:
    return json.loads((Path(model_dir) / BASELINE_FILE).read_text(encoding="utf-8"))


def predict_baseline(spec: dict[str, Any], texts: list[str]) -> list[str]:
    """The baseline's outputs for `texts`."""
    if not texts:
        return []
    kind = spec["task_type"]
    if kind == "classification":
        if "constant" in spec:
            return [spec["constant"]] * len(texts)
        from .embed import embed

        scores = embed(texts) @ np.asarray(spec["coef"], dtype=np.float32).T + np.asarray(spec["intercept"])
        classes = spec["classes"]
        if scores.shape[1] == 1:  # binary: one column, positive for classes[1]
            return [classes[int(s > 0)] for s in scores[:, 0]]
        return [classes[int(i)] for i in scores.argmax(axis=1)]
    if kind == "text2text":
        from .embed import embed

        demos = spec["demos"]
        nearest = (embed(texts) @ embed([d[0] for d in demos]).T).argmax(axis=1)
        return [demos[int(i)][1] for i in nearest]
    if kind == "ner":
        return [_gazetteer_tags(text, spec["gazetteer"]) for text in texts]
    return [_overlap_span(text) for text in texts]


def _gazetteer_tags(text: str, gazetteer: dict[str, str]) -> str:
    found = []
    for mention in sorted(gazetteer, key=len, reverse=True):
        if re.search(rf"(?<!\w){re.escape(mention)}(?!\w)", text) and \
                not any(mention in other for _, other in found):
            found.append((gazetteer[mention], mention))
    return "; ".join(f"{kind}: {mention}" for kind, mention in found) or "none"


def _overlap_span(text: str) -> str:
    context, question = split_qa(text)
    q_words = set(normalize_answer(question).split())
    sentences = [s for s in re.split(r"(?<=[.!?])\s+", context) if s.strip()] or [context]
    best = max(sentences, key=lambda s: len(q_words & set(normalize_answer(s).split())))
    rest = [w for w in best.split() if normalize_answer(w) not in q_words]
    return " ".join(rest) or best
