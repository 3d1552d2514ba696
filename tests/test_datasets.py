import json

import pytest

from p2m.core.schemas import TaskSpec
from p2m.tools.retrieval import datasets as ds
from p2m.tools.retrieval.catalog import load_catalog


@pytest.fixture(scope="module")
def catalog(shared):
    return load_catalog([shared / "datasets"])


def sentiment():
    return TaskSpec(instruction="Classify movie review sentiment as positive or negative",
                    labels=["negative", "positive"])


def test_catalog_reads_cards(catalog):
    names = {e.name for e in catalog}
    assert {"sst2", "agnews", "trec", "squad", "conala_en", "wnut17_ner"} <= names
    assert all(e.loadable for e in catalog)


@pytest.mark.parametrize("query, expected", [
    ("Classify movie review sentiment as positive or negative", "sst2"),
    ("Categorize news articles by topic: world, sports, business, science", "agnews"),
    ("What kind of answer does a question expect: a person, a location, a number", "trec"),
    ("Answer a question by copying a span of a Wikipedia paragraph", "squad"),
    ("Turn an English instruction into a line of Python code", "conala_en"),
])
def test_search_finds_the_right_dataset_first(catalog, query, expected):
    assert ds.search_datasets(query, catalog)[0]["name"] == expected


def test_llm_selection_reorders_hits_with_votes_and_reasons(catalog):
    from p2m.llm.scripted_llm import ScriptedLLM

    pick = {"purpose": "rerank", "json": {"chosen": [{"name": "trec", "reason": "questions"}]}}
    llm = ScriptedLLM([pick, pick])
    hits = ds.search_datasets("Classify movie review sentiment", catalog, sentiment(), llm=llm,
                              votes=2)
    assert hits[0]["name"] == "trec" and hits[0]["llm_votes"] == 2
    assert hits[0]["llm_reason"] == "questions" and "llm_votes" not in hits[1]
    assert llm.remaining() == 0


def test_likelihood_rerank_scores_the_task_instruction_given_each_card(catalog):
    class Scorer:
        scores_replies = True

        def __init__(self):
            self.replies = []

        def continuation_logprob(self, messages, reply):
            self.replies.append(reply)
            return -0.5 if "Dataset: trec\n" in messages[0]["content"] else -3.0

    llm = Scorer()
    hits = ds.search_datasets("movie reviews", catalog, sentiment(), llm=llm, rerank="likelihood")
    assert hits[0]["name"] == "trec" and hits[0]["llm_likelihood"] == -0.5
    assert "llm_votes" not in hits[0] and "-0.50" in hits[0]["llm_reason"]
    assert set(llm.replies) == {sentiment().instruction}  # the task, not the search words
    with pytest.raises(ValueError, match="rerank must be one of"):
        ds.search_datasets("x", catalog, rerank="llm")


def test_compatibility_checks_type_and_labels(catalog):
    by = {e.name: e for e in catalog}
    assert ds.compatibility(by["sst2"], sentiment())[0]
    ok, why = ds.compatibility(by["agnews"], sentiment())
    assert not ok and "labels" in why
    ok, why = ds.compatibility(by["squad"], sentiment())
    assert not ok and "task type" in why


def test_load_examples_keeps_provenance_and_maps_labels(catalog):
    entry = next(e for e in catalog if e.name == "sst2")
    task = TaskSpec(instruction="x", labels=["Negative", "Positive"])
    train, test = ds.load_examples(entry, task, max_train=50, max_test=20)
    assert len(train) == 50 and len(test) == 20
    assert {e.output for e in train} <= {"Negative", "Positive"}
    src = train[0].source
    assert src["kind"] == "dataset" and src["name"] == "sst2" and isinstance(src["row"], int)
    line = (entry.path / "train.jsonl").read_text().splitlines()[src["row"]]
    assert json.loads(line)["input"] == train[0].input


def _make(tmp_path, name, train_rows, test_rows=None, card=None):
    d = tmp_path / name
    d.mkdir()
    (d / "card.json").write_text(json.dumps(card or {"name": name, "task_type": "classification",
                                                     "labels": ["negative", "positive"]}))
    (d / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in train_rows))
    if test_rows is not None:
        (d / "test.jsonl").write_text("".join(json.dumps(r) + "\n" for r in test_rows))
    return load_catalog([tmp_path])[0]


def test_label_ids_without_names_are_refused(tmp_path):
    entry = _make(tmp_path, "bad", [{"text": "a", "label": 1}])
    with pytest.raises(ds.DatasetError, match="label ids .* card names no labels"):
        ds.load_examples(entry, sentiment(), 10, 10)


def test_other_columns_are_mapped_and_ids_named(tmp_path):
    entry = _make(tmp_path, "ids", [{"sentence": "loved it", "label": 1, "idx": 0},
                                    {"sentence": "hated it", "label": 0, "idx": 1}])
    entry.extra["label_names"] = ["negative", "positive"]
    info: dict = {}
    train, _ = ds.load_examples(entry, sentiment(), 10, 10, info=info)
    assert {(e.input, e.output) for e in train} == {("loved it", "positive"), ("hated it", "negative")}
    assert info["mapping"]["input_columns"] == ["sentence"] and info["mapping"]["output_column"] == "label"


def test_unrecognisable_columns_are_named(tmp_path):
    entry = _make(tmp_path, "odd", [{"a": "x", "b": "y"}])
    with pytest.raises(ds.DatasetError, match=r"columns \['a', 'b'\]"):
        ds.load_examples(entry, sentiment(), 10, 10)


def test_empty_split_is_named(tmp_path):
    entry = _make(tmp_path, "empty", [])
    with pytest.raises(ds.DatasetError, match="train split is empty"):
        ds.load_examples(entry, sentiment(), 10, 10)


def test_foreign_labels_are_rejected(tmp_path):
    entry = _make(tmp_path, "odd", [{"input": "a", "output": "meh"}])
    with pytest.raises(ds.DatasetError, match="not in the task's labels"):
        ds.load_examples(entry, sentiment(), 10, 10)


def test_snapshot_entries_are_search_only(shared, tmp_path):
    lines = (shared / "catalog" / "hf_datasets.jsonl").read_text().splitlines()
    assert len(lines) > 2000
    snapshot = tmp_path / "snap.jsonl"
    snapshot.write_text("\n".join(l for l in lines if '"imdb"' in l or '"ag_news"' in l) + "\n"
                        + "\n".join(lines[:150]) + "\n")
    entries = load_catalog([snapshot])
    assert not entries[0].loadable
    hits = ds.search_datasets("movie review sentiment", entries, sentiment())
    assert hits and not hits[0]["compatible"] and "search-only" in hits[0]["reason"]


def test_task_query_adds_family_and_label_names_only_when_asked():
    news = TaskSpec(instruction="Sort news articles by topic", labels=["World", "Sports"])
    assert ds.task_query(news) == "Sort news articles by topic"
    assert ds.task_query(news, "ag news") == "Sort news articles by topic. ag news"
    assert ds.task_query(news, "news articles") == ds.task_query(news)  # already in the instruction
    assert ds.task_query(news, words=True) == \
        "Sort news articles by topic. text classification. World, Sports"
    translate = TaskSpec(instruction="Translate English into German", task_type="text2text")
    assert ds.task_query(translate, words=True) == "Translate English into German"


def test_search_words_come_from_the_task_and_inputs_join_when_weighted(catalog, monkeypatch):
    from p2m.tools.retrieval.dataset_index import DatasetIndex

    seen = []
    real = DatasetIndex.hybrid

    def spy(self, query, k, inputs=(), input_weight=0.0):
        seen.append((query, list(inputs), input_weight))
        return real(self, query, k, inputs, input_weight)

    monkeypatch.setattr(DatasetIndex, "hybrid", spy)
    task = TaskSpec(**{**sentiment().model_dump(), "examples": [
        {"input": "A gem of a film.", "output": "positive"}]})
    ds.search_datasets("", catalog, task)  # the tool's call: an empty query means the task
    ds.search_datasets("films", catalog, task, task_words=True, input_weight=0.5)
    ds.search_datasets("films", catalog)
    assert seen[0][0] == task.instruction and seen[0][2] == ds.INPUT_WEIGHT
    assert seen[1] == (ds.task_query(task, "films", True), ["A gem of a film."], 0.5)
    assert seen[2][:2] == ("films", [])


def test_a_dataset_in_another_language_is_unfit_and_not_relabelled(tmp_path):
    from p2m.tools.retrieval.catalog import CatalogEntry

    urdu = CatalogEntry("imdb_urdu_reviews", "Movie reviews translated to Urdu.",
                        task_type="classification", labels=["neg", "pos"], path=tmp_path)
    ok, why = ds.compatibility(urdu, sentiment())
    assert not ok and why == "in ur, not the task's en"
    assert not ds.relabel_candidate(urdu, sentiment())
    urdu_task = TaskSpec(instruction="Classify Urdu movie reviews", labels=["neg", "pos"])
    assert ds.compatibility(urdu, urdu_task) == (True, "task type and labels match")


def test_the_search_embedder_is_a_setting_with_its_own_index(catalog, monkeypatch, tmp_path):
    from p2m.core.config import DataConfig

    with pytest.raises(ValueError, match="search_embedder"):
        DataConfig(search_embedder="bert")
    monkeypatch.setenv("P2M_INDEX_DIR", str(tmp_path))
    seen = []
    monkeypatch.setattr(ds, "embed", lambda texts, model="minilm": seen.append(model) or
                        __import__("p2m.tools.encoders.embed", fromlist=["embed"]).embed(texts))
    index = ds.open_index(catalog, "mpnet")
    assert index.path.name.startswith("datasets-all-mpnet-base-v2-") and set(seen) == {"mpnet"}
    assert ds.open_index(catalog).path.name.startswith("datasets-") and \
        "mpnet" not in ds.open_index(catalog).path.name
