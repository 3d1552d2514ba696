"""The input-fit check on real data: a dataset of another kind of text is refused, its own is not."""
import random

from p2m.schemas import TaskSpec
from p2m.tools.data_store import read_jsonl
from p2m.tools.source_fit import input_fit


def demos(shared, name, per_label=2, seed=5):
    """Demonstrations drawn with a seed the threshold was not set on."""
    rows = read_jsonl(shared / "datasets" / name / "train.jsonl")
    by = {}
    for r in rows:
        by.setdefault(r["output"], []).append(r)
    rng = random.Random(seed)
    return [{"input": r["input"], "output": r["output"]} for label in sorted(by)
            for r in rng.sample(by[label], per_label)]


def inputs(shared, name, n=200):
    rows = read_jsonl(shared / "datasets" / name / "train.jsonl")
    return [r["input"] for r in random.Random(0).sample(rows, n)]


def test_questions_do_not_fit_a_review_task_and_reviews_do(shared):
    task = TaskSpec(instruction="Sentiment of a movie review", labels=["negative", "positive"],
                    examples=demos(shared, "sst2"))
    trec = input_fit(task, inputs(shared, "trec"))
    assert not trec["fits"] and "do not resemble" in trec["reason"]
    own = input_fit(task, inputs(shared, "sst2"))
    assert own["fits"] and own["similarity"] > trec["similarity"]


def test_without_demonstrations_there_is_nothing_to_compare():
    task = TaskSpec(instruction="Is the question about a person?", labels=["person", "other"])
    assert input_fit(task, ["who wrote it?"])["fits"]
