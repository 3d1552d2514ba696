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


def test_a_free_text_task_is_drawn_as_bench_unseen_draws_it_and_a_task_file_brings_no_train_rows(shared, tmp_path):
    """Issue 34's first-round kept share is measured on code tasks too (not only labels)."""
    from bench.diversity import task_for

    task, train = task_for("conala_en", None, shared, seed=1)
    assert task.task_type == "text2text" and task.labels is None and len(task.examples) == 4
    assert {e.input for e in task.examples} <= {r["input"] for r in train}
    assert task_for("conala_en", None, shared, seed=1)[0].examples == task.examples  # seeded
    own = tmp_path / "task.yaml"
    own.write_text("instruction: Write the pandas code the request asks for.\ntask_type: text2text\n"
                   "examples:\n  - {input: 'mean of column a', output: \"df['a'].mean()\"}\n"
                   "  - {input: 'drop rows with a missing value', output: 'df.dropna()'}\n")
    task, train = task_for("trec", str(own), shared, seed=0)
    assert task.task_type == "text2text" and len(task.examples) == 2 and train == []
