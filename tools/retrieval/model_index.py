"""Model retrieval: rank pretrained models for a task, as Prompt2Model does, and keep it honest.

Candidates come from a search-only snapshot (JSONL `{"pretrained_model_name", "description",
"size_bytes", "downloads"}`, the format of ../shared/catalog/hf_models.jsonl) and from what is
really on disk (the packaged MiniLM, the Hugging Face cache). Ranking: BM25 over model cards for
the task text (with an LLM, a HyDE-style hypothetical model card is searched as well), filtered by
an architecture that fits the task family and a size budget, times log-popularity. Offline, only
models on disk can be chosen; a better catalog match that is not on disk is reported, not used.
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from pydantic import BaseModel, Field

from p2m.core.schemas import TaskSpec
from p2m.tools.families import family

ENCODER_WORDS = re.compile(r"(?<![a-z])bert|roberta|electra|deberta|minilm|mpnet|albert-(base|large)|"
                           r"xlm-r|distilbert", re.I)
DECODER_WORDS = re.compile(r"gpt|llama|qwen|mistral|phi|gemma|opt-|bloom|codegen|santacoder|starcoder|"
                           r"t5|bart|pegasus|codet5", re.I)


@dataclass
class ModelEntry:
    name: str
    description: str
    size_bytes: int = 0
    downloads: int = 0
    path: Optional[str] = None  # set when the weights are on local disk

    def fits(self, task_type: str) -> bool:
        """Architecture from the model's name (cards mention other models too)."""
        decoder = bool(DECODER_WORDS.search(self.name))
        if not family(task_type).encoder:
            return decoder
        return bool(ENCODER_WORDS.search(self.name)) and not decoder


def load_model_catalog(path: str | Path) -> list[ModelEntry]:
    entries = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                row = json.loads(line)
                entries.append(ModelEntry(name=row["pretrained_model_name"],
                                          description=str(row.get("description") or ""),
                                          size_bytes=int(row.get("size_bytes") or 0),
                                          downloads=int(row.get("downloads") or 0)))
    return entries


class HypotheticalCard(BaseModel):
    """A model card the ideal model for the task might have (HyDE)."""

    card: str = Field(description="two or three sentences of such a model card", max_length=600)


def hyde_card(llm: Any, task: TaskSpec) -> str:
    try:
        return llm.structured([{"role": "user", "content":
                                f"Write a short Hugging Face model card for a small model that does this "
                                f"task well:\n{task.instruction}\n"
                                'Reply with JSON {"card": ...}.'}],
                              HypotheticalCard, purpose="hyde_model", max_tokens=200).card
    except Exception:
        return ""


def search_models(task: TaskSpec, catalog: list[ModelEntry], on_disk: dict[str, str],
                  llm: Any = None, max_bytes: float = 2e9, top_k: int = 5) -> list[dict[str, Any]]:
    """Ranked candidates `{"name", "score", "on_disk", "path", "reason"}`; on-disk models included."""
    import bm25s

    pool = [e for e in catalog if e.fits(task.task_type) and (not e.size_bytes or e.size_bytes <= max_bytes)]
    known = {e.name for e in pool}
    for name, path in on_disk.items():
        local = ModelEntry(name=name, description=name.replace("/", " ").replace("-", " "), path=path)
        if name not in known and local.fits(task.task_type):
            pool.append(local)
    for e in pool:
        e.path = on_disk.get(e.name, e.path)
    if not pool:
        return []
    query = f"{task.instruction} {task.task_type.replace('_', ' ')}"
    if llm is not None:
        query = f"{query} {hyde_card(llm, task)}"
    retriever = bm25s.BM25()
    retriever.index(bm25s.tokenize([f"{e.name} {e.description[:3000]}" for e in pool], stopwords="en",
                                   show_progress=False), show_progress=False)
    ids, scores = retriever.retrieve(bm25s.tokenize([query], stopwords="en", show_progress=False),
                                     k=len(pool), show_progress=False)
    ranked = []
    for i, s in zip(ids[0], scores[0]):
        e = pool[int(i)]
        score = float(s) * math.log10(10 + e.downloads)
        ranked.append((score, e))
    ranked.sort(key=lambda t: -t[0])
    hits = []
    for score, e in ranked[:top_k]:
        size = f", {e.size_bytes / 1e6:.0f} MB" if e.size_bytes else ""
        hits.append({"name": e.name, "score": round(score, 3), "on_disk": e.path is not None,
                     "path": e.path, "downloads": e.downloads,
                     "reason": f"card matches the task (BM25{' + HyDE' if llm else ''}), "
                               f"{e.downloads} downloads{size}"
                               + ("" if e.path else "; not on local disk, cannot be loaded offline")})
    return hits
