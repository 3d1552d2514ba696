"""Dataset catalog, search and loading into input/output pairs with provenance."""
from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import numpy as np

from ..schemas import TASK_TYPE_ALIASES, Example, TaskSpec
from .data_store import read_jsonl


class DatasetError(ValueError):
    """A dataset that cannot be used for the task, with the reason."""


@dataclass
class CatalogEntry:
    """One dataset the search can find; `path` is None for search-only snapshot entries."""

    name: str
    description: str
    task_type: Optional[str] = None
    labels: Optional[list[str]] = None
    path: Optional[Path] = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def loadable(self) -> bool:
        return self.path is not None

    def text(self) -> str:
        labels = " ".join(self.labels or [])
        return f"{self.name.replace('_', ' ')} {self.description} {self.task_type or ''} {labels}"


def load_catalog(sources: list[str | Path]) -> list[CatalogEntry]:
    """Entries from catalog directories (one folder per dataset with card.json) and JSONL snapshots."""
    entries: list[CatalogEntry] = []
    for src in sources:
        src = Path(src)
        if src.is_dir():
            for card_path in sorted(src.glob("*/card.json")):
                try:
                    card = json.loads(card_path.read_text(encoding="utf-8"))
                except (OSError, json.JSONDecodeError):
                    continue  # an unreadable card is skipped, not fatal
                entries.append(CatalogEntry(
                    name=str(card.get("name") or card_path.parent.name),
                    description=str(card.get("description", "")),
                    task_type=card.get("task_type"), labels=card.get("labels"),
                    path=card_path.parent,
                ))
        elif src.is_file():
            for row in read_jsonl(src):
                entries.append(CatalogEntry(name=str(row.get("name")),
                                            description=str(row.get("description") or ""),
                                            extra={"evaluation_metadata": row.get("evaluation_metadata")}))
        else:
            raise FileNotFoundError(f"catalog not found: {src}")
    return entries


def _family(task_type: Optional[str]) -> Optional[str]:
    if task_type is None:
        return None
    return TASK_TYPE_ALIASES.get(task_type, task_type)


def compatibility(entry: CatalogEntry, task: TaskSpec) -> tuple[bool, str]:
    """Whether the dataset can train this task as it is, and why (or why not)."""
    if not entry.loadable:
        return False, "search-only catalog entry: no local copy to load"
    fam = _family(entry.task_type)
    if fam is not None and fam != task.task_type:
        return False, f"task type {entry.task_type} does not match {task.task_type}"
    if task.task_type == "classification" and task.labels:
        theirs = {str(x).lower() for x in entry.labels or []}
        ours = {x.lower() for x in task.labels}
        if theirs != ours:
            return False, f"labels {sorted(entry.labels or [])} differ from the task's {task.labels}"
    return True, "task type and labels match"


def _rrf(rankings: list[list[int]], k: int = 60) -> dict[int, float]:
    scores: dict[int, float] = {}
    for ranking in rankings:
        for rank, idx in enumerate(ranking):
            scores[idx] = scores.get(idx, 0.0) + 1.0 / (k + rank + 1)
    return scores


def bm25_rank(query: str, docs: list[str]) -> list[int]:
    import bm25s

    retriever = bm25s.BM25()
    retriever.index(bm25s.tokenize(docs, stopwords="en", show_progress=False), show_progress=False)
    res, _ = retriever.retrieve(bm25s.tokenize([query], stopwords="en", show_progress=False),
                                k=len(docs), show_progress=False)
    return [int(i) for i in res[0]]


def dense_rank(query: str, docs: list[str]) -> list[int]:
    from .embed import embed

    sims = embed(docs) @ embed([query])[0]
    return [int(i) for i in np.argsort(-sims)]


def search_datasets(query: str, catalog: list[CatalogEntry], task: Optional[TaskSpec] = None,
                    top_k: int = 5) -> list[dict[str, Any]]:
    """Rank catalog entries for `query` by BM25 and dense similarity fused with reciprocal ranks.

    Each hit says whether it can train `task` as it is, and why.
    """
    if not catalog:
        return []
    docs = [e.text() for e in catalog]
    fused = _rrf([bm25_rank(query, docs), dense_rank(query, docs)])
    order = sorted(fused, key=lambda i: -fused[i])[:top_k]
    hits = []
    for i in order:
        entry = catalog[i]
        ok, why = compatibility(entry, task) if task else (entry.loadable, "")
        hits.append({"name": entry.name, "score": round(fused[i], 5), "task_type": entry.task_type,
                     "labels": entry.labels, "compatible": ok, "reason": why})
    return hits


def _map_label(value: str, task: TaskSpec) -> str:
    if task.task_type != "classification" or not task.labels:
        return value
    for label in task.labels:
        if label.lower() == value.lower():
            return label
    raise DatasetError(f"label {value!r} is not in the task's labels {task.labels}")


def load_examples(entry: CatalogEntry, task: TaskSpec, max_train: int, max_test: int,
                  seed: int = 42) -> tuple[list[Example], list[Example]]:
    """Train and test examples from a local catalog dataset, sampled with `seed`, with provenance."""
    if entry.path is None:
        raise DatasetError(f"{entry.name}: search-only entry, nothing to load")
    out: dict[str, list[Example]] = {}
    for split, limit in (("train", max_train), ("test", max_test)):
        path = entry.path / f"{split}.jsonl"
        if not path.is_file():
            if split == "test":
                out[split] = []
                continue
            raise DatasetError(f"{entry.name}: no {split} split ({path.name} missing)")
        rows = read_jsonl(path)
        if not rows:
            raise DatasetError(f"{entry.name}: the {split} split is empty")
        missing = [c for c in ("input", "output") if c not in rows[0]]
        if missing:
            raise DatasetError(f"{entry.name}: {split} rows lack columns {missing}; "
                               f"columns are {sorted(rows[0])}")
        indices = list(range(len(rows)))
        random.Random(seed).shuffle(indices)
        examples = []
        for i in indices:
            row = rows[i]
            text, target = str(row.get("input") or "").strip(), str(row.get("output") or "").strip()
            if not text or not target:
                continue
            examples.append(Example(input=text, output=_map_label(target, task), split=split,
                                    source={"kind": "dataset", "name": entry.name, "split": split,
                                            "row": i}))
            if len(examples) >= limit:
                break
        if not examples:
            raise DatasetError(f"{entry.name}: the {split} split has no row with both input and output")
        out[split] = examples
    return out["train"], out["test"]
