"""Model retrieval over the real Prompt2Model snapshot: fit, size, popularity, honesty offline."""
from __future__ import annotations

import pytest

from p2m.core.schemas import TaskSpec
from p2m.tools.retrieval.model_index import ModelEntry, load_model_catalog, search_models
from p2m.tools.retrieval.models import MINILM, local_models


@pytest.fixture(scope="module")
def snapshot(shared):
    return load_model_catalog(shared / "catalog" / "hf_models.jsonl")


def test_family_filter_and_on_disk_flag(snapshot):
    hits = search_models(TaskSpec(instruction="Classify movie review sentiment",
                                  labels=["negative", "positive"]), snapshot, local_models(), top_k=10)
    assert hits and all("gpt" not in h["name"].lower() for h in hits)
    minilm = [h for h in hits if h["name"] == MINILM]
    assert minilm and minilm[0]["on_disk"]
    assert all(h["on_disk"] or "cannot be loaded offline" in h["reason"] for h in hits)
    code = search_models(TaskSpec(instruction="Generate Python code from an English instruction",
                                  task_type="text2text"), snapshot, {}, top_k=5)
    assert code and all(not h["on_disk"] for h in code)


def test_size_budget_and_popularity():
    catalog = [ModelEntry("a/bert-small", "bert sentiment classifier", size_bytes=50_000_000, downloads=10),
               ModelEntry("b/bert-huge", "bert sentiment classifier", size_bytes=5_000_000_000, downloads=10**6),
               ModelEntry("c/bert-popular", "bert sentiment classifier", size_bytes=60_000_000, downloads=10**6)]
    task = TaskSpec(instruction="sentiment classifier", labels=["neg", "pos"])
    names = [h["name"] for h in search_models(task, catalog, {}, max_bytes=1e9)]
    assert names == ["c/bert-popular", "a/bert-small"]


def test_choose_model_tool_explains_an_unloadable_best_match(tmp_path, shared, monkeypatch):
    monkeypatch.setenv("P2M_CACHE", str(tmp_path / "cache"))  # MiniLM alone on disk, whatever this machine assembled
    from p2m.runfolder.context import RunContext
    from p2m.runfolder.trace import TraceWriter
    from p2m.core.config import RunConfig
    from p2m.tools.specs.choose_model import choose_model as choose_model_tool

    catalog = tmp_path / "models.jsonl"
    catalog.write_text('{"pretrained_model_name": "someone/bert-sentiment-movie-reviews", "description": '
                       '"bert fine-tuned for movie review sentiment classification", "size_bytes": 4e8, '
                       '"downloads": 100000}\n')
    config = RunConfig(model_catalog=[str(catalog)])
    ctx = RunContext(run_dir=tmp_path, task=TaskSpec(instruction="Classify movie review sentiment",
                                                     labels=["negative", "positive"]),
                     config=config, llm=None, trace=TraceWriter(tmp_path / "t.jsonl"))
    result = choose_model_tool(ctx)
    assert result["name"] == MINILM
    assert "someone/bert-sentiment-movie-reviews is not on local disk" in result["reason"]
