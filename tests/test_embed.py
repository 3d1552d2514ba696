"""The shared embedder: texts seen before in the process are not encoded again."""
import numpy as np

from p2m.tools.encoders import embed as embed_module


class CountingEncoder:
    """Stands in for a SentenceTransformer: a vector from each text's length; counts texts."""

    def __init__(self):
        self.encoded = []

    def encode(self, texts, **kwargs):
        self.encoded.extend(texts)
        return np.array([[len(t), 1.0] for t in texts], dtype=np.float32)


def test_repeated_texts_are_encoded_once_and_come_back_in_order(monkeypatch):
    encoder = CountingEncoder()
    monkeypatch.setattr(embed_module, "get_embedder", lambda path="": encoder)
    monkeypatch.setattr(embed_module, "_memo", {})
    first = embed_module.embed(["a", "bbb", "a"])
    assert first[:, 0].tolist() == [1, 3, 1] and encoder.encoded == ["a", "bbb"]
    again = embed_module.embed(["cc", "bbb", "a"])
    assert again[:, 0].tolist() == [2, 3, 1] and encoder.encoded == ["a", "bbb", "cc"]
    assert embed_module.embed([]).shape == (0, 384)


def test_a_memo_past_its_size_starts_over(monkeypatch):
    encoder = CountingEncoder()
    monkeypatch.setattr(embed_module, "get_embedder", lambda path="": encoder)
    monkeypatch.setattr(embed_module, "_memo", {})
    monkeypatch.setattr(embed_module, "MEMO_ROWS", 3)
    embed_module.embed(["a", "b", "c"])
    vectors = embed_module.embed(["dd", "eee", "ffff", "a"])  # more than the memo holds
    assert vectors[:, 0].tolist() == [2, 3, 4, 1]
