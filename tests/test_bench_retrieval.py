"""The retrieval bench's scoring: recall capped at 1 with mirror groups, and the strict reading."""
from bench import retrieval


def keys(name: str) -> set[str]:
    return {"name:" + name.rsplit("/", 1)[-1]}


def test_a_group_of_mirrors_cannot_push_recall_above_one():
    ranked = [["squad", "a/squad", "b/squad", "c/squad"], ["imdb"]]
    relevant = {"squad", "a/squad", "b/squad", "c/squad"}
    assert retrieval.scores(ranked, relevant, 2) == (1.0, 1.0)
    assert retrieval.scores([["imdb"], ["squad"]], {"squad", "quoref"}, 2) == (0.5, 0.5)


def test_distinct_recall_counts_mirrors_once_and_one_dataset_per_rank():
    relevant = {"squad", "a/squad", "quoref"}  # two datasets: squad (and its mirror), quoref
    assert retrieval.distinct_recall([["squad", "a/squad"], ["imdb"]], relevant, 2, keys) == 0.5
    assert retrieval.distinct_recall([["a/squad"], ["quoref"]], relevant, 2, keys) == 1.0
    # A group that holds both datasets is still one rank: it finds one of them.
    assert retrieval.distinct_recall([["squad", "quoref"], ["imdb"]], relevant, 2, keys) == 0.5


def test_task_fields_make_a_task_and_a_split_selects_its_half(tmp_path):
    import json

    import pytest

    q = {"id": "t1", "prompt": "Spam or not?", "task_type": "classification",
         "labels": ["spam", "ham"], "examples": [{"input": "Win $$$ now", "output": "spam"}]}
    task = retrieval.task_of(q)
    assert task.labels == ["spam", "ham"] and task.examples[0].input == "Win $$$ now"
    assert retrieval.task_of({"prompt": "Spam or not?"}) is None
    split = tmp_path / "split.json"
    split.write_text(json.dumps({"tune": ["t1"], "test": ["t2"]}))
    queries = [q, {**q, "id": "t2"}]
    assert [x["id"] for x in retrieval.select(queries, str(split), "test")] == ["t2"]
    assert retrieval.select(queries, "", "all") == queries
    with pytest.raises(SystemExit):
        retrieval.select(queries, "", "tune")


def test_saved_rankings_are_rescored_only_for_the_queries_that_made_them(tmp_path):
    import pytest

    queries = [{"id": "t1", "prompt": "a"}, {"id": "t2", "prompt": "b"}]
    ranked, seconds, meta = {"p2m": [[["sst2"]], [["trec"], ["ag_news"]]]}, {"p2m": 30.0}, {"llm": "x"}
    path = str(tmp_path / "rankings.json")
    retrieval.save_rankings(path, queries, ranked, seconds, meta)
    assert retrieval.load_rankings(path, queries) == (ranked, seconds, meta)
    with pytest.raises(SystemExit, match="other queries"):
        retrieval.load_rankings(path, queries[:1])
