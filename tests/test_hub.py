"""Hub search and download against local stand-ins (no network)."""
from __future__ import annotations

from types import SimpleNamespace

import datasets
import pytest

from p2m.core.schemas import TaskSpec
from p2m.tools.retrieval.catalog import DatasetError
from p2m.tools.retrieval.datasets import load_examples
from p2m.tools.retrieval.hub import download_dataset, search_hub


class FakeApi:
    def __init__(self):
        self.calls = []

    def list_datasets(self, **kw):
        self.calls.append(kw)
        return [SimpleNamespace(id="stanfordnlp/imdb", description="Large movie review dataset",
                                card_data={}, downloads=10, tags=["task_categories:text-classification"]),
                SimpleNamespace(id="someone/qa", description=None, card_data={"pretty_name": "QA set"},
                                downloads=1, tags=["task_categories:question-answering"])]


def test_search_hub_lists_search_only_entries():
    api = FakeApi()
    entries = search_hub("movie sentiment", limit=5, api=api)
    assert api.calls == [{"search": "movie sentiment", "limit": 5, "sort": "downloads", "full": True}]
    assert [(e.name, e.task_type, e.loadable) for e in entries] == [
        ("stanfordnlp/imdb", "classification", False), ("someone/qa", "extractive_qa", False)]
    assert entries[1].description == "QA set"


def test_download_writes_a_catalog_folder_that_loads(tmp_path):
    features = datasets.Features({"text": datasets.Value("string"),
                                  "label": datasets.ClassLabel(names=["neg", "pos"])})
    local = datasets.DatasetDict({
        "train": datasets.Dataset.from_dict({"text": ["good", "bad", "fine"], "label": [1, 0, 1]}, features=features),
        "validation": datasets.Dataset.from_dict({"text": ["meh"], "label": [0]}, features=features)})
    entry = download_dataset("stanfordnlp/imdb", tmp_path, loader=lambda name: local)
    assert entry.loadable and entry.labels == ["neg", "pos"]
    train, test = load_examples(entry, TaskSpec(instruction="x", labels=["neg", "pos"]), 10, 10)
    assert {(e.input, e.output) for e in train} == {("good", "pos"), ("bad", "neg"), ("fine", "pos")}
    assert [(e.input, e.output) for e in test] == [("meh", "neg")]


def test_download_failure_names_the_dataset(tmp_path):
    def offline(name):
        raise ConnectionError("no network")

    with pytest.raises(DatasetError, match="someone/x: could not download from the Hub: no network"):
        download_dataset("someone/x", tmp_path, loader=offline)


def test_a_run_searches_the_hub_and_downloads_the_chosen_dataset(tmp_path, monkeypatch, tiny_model_dir):
    """--hub with the Hub replaced by stand-ins: search lists, load downloads, training runs."""
    from p2m import runner
    from p2m.core.config import RunConfig
    from p2m.tools.retrieval import hub

    features = datasets.Features({"text": datasets.Value("string"),
                                  "label": datasets.ClassLabel(names=["negative", "positive"])})
    words = [("a joy", 1), ("a mess", 0), ("superb", 1), ("dreadful", 0)] * 10
    local = datasets.DatasetDict({
        "train": datasets.Dataset.from_dict({"text": [f"{w} {i}" for i, (w, _) in enumerate(words)],
                                             "label": [l for _, l in words]}, features=features),
        "test": datasets.Dataset.from_dict({"text": ["great fun", "awful"], "label": [1, 0]}, features=features)})
    from p2m.tools.specs import load_dataset, search_datasets

    # Patched where the tools look them up.
    monkeypatch.setattr(search_datasets, "search_hub", lambda query, limit=20, api=None: search_hub(query, api=FakeApi()))
    real_download = hub.download_dataset
    monkeypatch.setattr(load_dataset, "download_dataset",
                        lambda name, folder, **kw: real_download(name, folder, loader=lambda n: local))
    task = TaskSpec(instruction="Classify movie review sentiment", labels=["negative", "positive"])
    config = RunConfig(llm="none", hub=True, model=str(tiny_model_dir))
    config.train.epochs = 1
    config.budget.max_iterations = 1
    run_dir = tmp_path / "run"
    runner.create_run(task, config, run_dir)
    report = runner.execute(runner.open_context(run_dir, progress=False))
    # 10% of the 40 train rows become the validation split; the 2 test rows are the gold test.
    assert report["n_train"] == 36 and report["n_validation"] == 4 and report["n_test"] == 2
    assert report["metric"] is not None and report["test"]["source"] == "dataset:stanfordnlp/imdb"
    assert (run_dir / "hub_datasets" / "stanfordnlp__imdb" / "card.json").is_file()
