"""The local catalog: dataset folders with a card, JSONL snapshots, and what is skipped."""
from __future__ import annotations

import json

import pytest

from p2m.tools.retrieval.catalog import load_catalog


def test_folders_with_a_card_are_loadable_and_snapshot_rows_search_only(tmp_path):
    (tmp_path / "cat" / "reviews").mkdir(parents=True)
    (tmp_path / "cat" / "reviews" / "card.json").write_text(json.dumps(
        {"name": "reviews", "description": "movie reviews", "task_type": "classification",
         "labels": ["neg", "pos"]}))
    (tmp_path / "cat" / "broken").mkdir()
    (tmp_path / "cat" / "broken" / "card.json").write_text("{not json")  # skipped, not fatal
    snapshot = tmp_path / "hub.jsonl"
    snapshot.write_text(json.dumps({"name": "ag_news", "description": "news topics"}) + "\n")
    entries = load_catalog([tmp_path / "cat", snapshot])
    assert [(e.name, e.loadable) for e in entries] == [("reviews", True), ("ag_news", False)]
    assert entries[0].labels == ["neg", "pos"] and "movie reviews" in entries[0].text()


def test_a_missing_catalog_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="catalog not found: .*nowhere"):
        load_catalog([tmp_path / "nowhere"])
