"""Demonstration folds: balanced, and a fold's rows never train the models that score it."""
from p2m.core.schemas import Example, TaskSpec
from p2m.tools.scoring.folds import demo_folds, fold_count, held_out_demos, row_fold, task_seeing, usable_for

TASK = TaskSpec(instruction="Sentiment", labels=["neg", "pos", "mixed"],
                examples=[{"input": f"text {i}", "output": ["neg", "pos", "mixed"][i % 3]} for i in range(6)])


def test_folds_deal_every_label_to_every_fold():
    k = fold_count(TASK, 2)
    folds = demo_folds(TASK, k)
    assert k == 2 and len(folds) == 6
    for j in range(k):
        assert {d.output for d, f in zip(TASK.examples, folds) if f == j} == {"neg", "pos", "mixed"}
    assert fold_count(TASK.model_copy(update={"examples": TASK.examples[:1]}), 2) == 0


def test_rows_that_saw_a_fold_are_kept_from_its_models():
    folds = demo_folds(TASK, 2)
    demo0 = Example(input="text 0", output="neg", source={"kind": "user", "row": 0})
    wrote_from_0 = Example(input="g", output="neg", source={"kind": "generated", "fold": folds[0]})
    retrieved = Example(input="r", output="neg", source={"kind": "dataset", "name": "x"})
    assert row_fold(demo0, folds) == folds[0] and row_fold(retrieved, folds) is None
    assert not usable_for(demo0, folds, folds[0]) and not usable_for(wrote_from_0, folds, folds[0])
    assert usable_for(demo0, folds, 1 - folds[0]) and usable_for(retrieved, folds, folds[0])
    seen = task_seeing(TASK, folds, {0})
    assert [d.input for d in seen.examples] == [d.input for d, f in zip(TASK.examples, folds) if f == 0]
    assert all(r.split == "test" for r in held_out_demos(TASK, folds, 1))
