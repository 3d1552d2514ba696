"""bench.diversity's stand-in for validation failures: the demonstrations-only model's mistakes."""
from bench.diversity import baseline_failures
from bench.unseen import TASKS, demonstrations
from p2m.core.schemas import TaskSpec
from p2m.runfolder.data_store import read_jsonl


def test_failures_are_real_mistakes_with_gold_and_predicted_labels(shared):
    train = read_jsonl(shared / "datasets" / "trec" / "train.jsonl")
    task = TaskSpec(instruction=TASKS["trec"], labels=sorted({r["output"] for r in train}),
                    examples=demonstrations(train, 2, 0))
    failures = baseline_failures(task, train, seed=0, n=30)
    assert 0 < len(failures) <= 30
    assert all(f["expected"] != f["predicted"] and f["expected"] in task.labels for f in failures)
