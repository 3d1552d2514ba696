"""Whole runs for extractive QA, NER and classification on real slices (SQuAD, WNUT-17, SST-2), scored by `p2m eval`."""
from __future__ import annotations


import pytest

from p2m import runner
from p2m.core.config import RunConfig
from p2m.core.schemas import TaskSpec
from p2m.scoring import score_run


@pytest.fixture(scope="module")
def family_catalog(make_catalog, tmp_path_factory):
    return make_catalog(tmp_path_factory.mktemp("families"), (("squad", 48, 16), ("wnut17_ner", 64, 16)))


@pytest.mark.parametrize("task, metric", [
    (TaskSpec(instruction="Answer the question by copying a span of the Wikipedia context paragraph",
              task_type="extractive_qa"), "f1"),
    (TaskSpec(instruction="Find named entities (person, location, group, corporation, product, "
                          "creative-work) in tweets", task_type="ner"), "entity_f1"),
], ids=["extractive_qa", "ner"])
def test_family_run_and_eval(task, metric, family_catalog, tiny_model_dir, tmp_path, shared):
    config = RunConfig(llm="none", catalog=[str(family_catalog)], model=str(tiny_model_dir))
    config.train.epochs = 1
    config.budget.max_iterations = 1
    run_dir = tmp_path / "run"
    runner.create_run(task, config, run_dir)
    report = runner.execute(runner.open_context(run_dir, progress=False))
    assert report["metric"]["name"] == metric and 0.0 <= report["metric"]["value"] <= 1.0
    assert report["n_retrieved"] > 0
    name = "squad" if task.task_type == "extractive_qa" else "wnut17_ner"
    scored = score_run(run_dir, shared / "datasets" / name / "test.jsonl", limit=20)
    assert scored["metric"]["name"] == metric and scored["n"] == 20
    card = (run_dir / "model" / "README.md").read_text()
    assert task.task_type in card or metric in card


def test_classification_run_publishes_a_head_student_that_eval_runs(sst2_catalog, tmp_path, shared):
    config = RunConfig(llm="none", catalog=[str(sst2_catalog)])  # the default student: MiniLM
    config.train.classifier = "head"
    config.budget.max_iterations = 1
    run_dir = tmp_path / "run"
    runner.create_run(TaskSpec(instruction="Classify movie review sentiment.",
                               labels=["negative", "positive"]), config, run_dir)
    report = runner.execute(runner.open_context(run_dir, progress=False))
    assert report["metric"]["name"] == "accuracy" and report["n_retrieved"] > 0
    assert (run_dir / "model" / "head.json").is_file()
    assert "logistic regression on its frozen embeddings" in (run_dir / "model" / "README.md").read_text()
    scored = score_run(run_dir, shared / "datasets" / "sst2" / "test.jsonl", limit=40)
    assert scored["n"] == 40 and scored["metric"]["value"] > 0.6  # MiniLM's head is far above chance
