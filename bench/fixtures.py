"""Tiny models for tests and benches: built from a config, they train in seconds on a CPU."""
from __future__ import annotations

from pathlib import Path


def tiny_bert(path: Path) -> Path:
    """A 2-layer, 32-wide BERT with MiniLM's tokenizer at `path` (made once)."""
    from transformers import AutoTokenizer, BertConfig, BertModel

    from p2m.tools.encoders.embed import minilm_path

    if not (path / "config.json").is_file():
        tok = AutoTokenizer.from_pretrained(minilm_path())
        BertModel(BertConfig(vocab_size=tok.vocab_size, hidden_size=32, num_hidden_layers=2,
                             num_attention_heads=2, intermediate_size=64,
                             max_position_embeddings=128)).save_pretrained(path)
        tok.save_pretrained(path)
    return path
