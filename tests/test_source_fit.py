"""The input-fit check on real data: a dataset of another kind of text is refused, its own is not."""
import random

from p2m.core.schemas import Example, TaskSpec
from p2m.runfolder.data_store import read_jsonl
from p2m.tools.retrieval.source_fit import ABLATION_P, fold_ablation, input_fit, sign_test


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


def test_rows_that_teach_the_wrong_labels_fail_the_fold_ablation(shared):
    task = TaskSpec(instruction="Sentiment of a movie review", labels=["negative", "positive"],
                    examples=demos(shared, "sst2", per_label=4))
    rows = random.Random(1).sample(read_jsonl(shared / "datasets" / "sst2" / "train.jsonl"), 200)
    own = [Example(input=r["input"], output=r["output"], source={"kind": "dataset"}) for r in rows]
    swap = {"negative": "positive", "positive": "negative"}
    flipped = [e.model_copy(update={"output": swap[e.output]}) for e in own]
    good, bad = fold_ablation(task, own, k=2), fold_ablation(task, flipped, k=2)
    assert good["checked"] and good["keep"] and good["n"] == 8
    assert not bad["keep"] and bad["with"] < bad["without"] and "worse" in bad["reason"]
    assert bad["p"] < ABLATION_P <= good["p"]


def test_the_sign_test():
    assert sign_test(0, 0) == 1.0 and sign_test(1, 0) == 0.5
    assert sign_test(5, 0) == 1 / 32 and sign_test(2, 0) == 1 / 4  # 2 demonstrations can never refuse
    assert abs(sign_test(6, 1) - 8 / 128) < 1e-12


def test_fold_ablation_needs_labels_and_folds():
    task = TaskSpec(instruction="Translate to French", task_type="text2text",
                    examples=[{"input": "cat", "output": "chat"}, {"input": "dog", "output": "chien"}])
    rows = [Example(input="bird", output="oiseau", source={"kind": "dataset"})]
    result = fold_ablation(task, rows, k=2)
    assert not result["checked"] and result["keep"]
