import json

import pytest

from p2m.core.config import TrainConfig
from p2m.core.schemas import Example, TaskSpec
from p2m.tools.scoring.predictions import evaluate_model, teacher_score
from p2m.tools.families.classification.metric import classification_metrics
from p2m.tools.training.finetune import TrainingError, split_validation
from p2m.tools.families.classification.model import train_classifier

LABELS = ["negative", "positive"]


def rows(shared, split, n):
    out = []
    for line in (shared / "datasets" / "sst2" / f"{split}.jsonl").read_text().splitlines()[:n]:
        r = json.loads(line)
        out.append(Example(input=r["input"], output=r["output"], split=split, source={"kind": "dataset"}))
    return out


def test_metrics_report_failures_and_per_class():
    m = classification_metrics(["a", "b", "a", "a"], ["a", "b", "b", "a"], ["a", "b"], ["w", "x", "y", "z"])
    assert m.value == 0.75 and m.others["macro_f1"] == pytest.approx(0.7333, abs=1e-3)
    assert m.per_class["b"]["recall"] == 0.5
    assert m.failures == [{"input": "y", "expected": "b", "predicted": "a"}]


def test_schedule_gives_small_data_enough_steps():
    from p2m.core.config import TrainConfig
    from p2m.tools.training.finetune import schedule

    assert schedule(2000, TrainConfig()) == (32, 4.0)          # big data: as configured
    assert schedule(720, TrainConfig()) == (16, 4.0)           # halve the batch before adding epochs
    bs, epochs = schedule(100, TrainConfig())
    assert bs == 8 and epochs * -(-100 // bs) >= 150 and epochs <= 30


def test_validation_split_is_stratified():
    ex = [Example(input=str(i), output=LABELS[i % 2], source={}) for i in range(40)]
    train, val = split_validation(ex, 0.1, 0, stratify=True)
    assert len(val) == 4 and {e.output for e in val} == set(LABELS) and len(train) == 36


def test_train_and_evaluate_tiny_model(shared, tiny_model_dir, tmp_path):
    train = rows(shared, "train", 120)
    cfg = TrainConfig(epochs=2, batch_size=16, learning_rate=1e-3)
    result = train_classifier(str(tiny_model_dir), train, LABELS, tmp_path / "run", cfg, progress=False)
    assert result.n_train + result.n_val == 120 and result.loss_curve
    assert (tmp_path / "run" / "model" / "config.json").exists()
    task = TaskSpec(instruction="sentiment", labels=LABELS)
    metrics = evaluate_model(result.path, rows(shared, "test", 40), task)
    assert metrics.n == 40 and 0.0 <= metrics.value <= 1.0
    assert len(metrics.failures) == round((1 - metrics.value) * 40)


def test_training_rejects_bad_data(tiny_model_dir, tmp_path):
    one_label = [Example(input=f"t{i}", output="positive", source={}) for i in range(20)]
    with pytest.raises(TrainingError, match="need two or more"):
        train_classifier(str(tiny_model_dir), one_label, LABELS, tmp_path, TrainConfig())
    off = one_label + [Example(input="x", output="meh", source={})]
    with pytest.raises(TrainingError, match="not in the label set"):
        train_classifier(str(tiny_model_dir), off, LABELS, tmp_path, TrainConfig())


def test_teacher_score_with_scripted_llm(shared):
    from p2m.llm.scripted_llm import ScriptedLLM

    test = rows(shared, "test", 4)
    replies = [{"json": {"label": e.output}} for e in test[:3]] + [{"content": "???"}]
    task = TaskSpec(instruction="sentiment", labels=LABELS)
    result = teacher_score(ScriptedLLM(replies), task, test)
    assert result["metric"] == {"name": "accuracy", "value": 0.75} and result["n"] == 4


def test_the_teacher_sees_every_label_with_demonstrations_sorted_by_label():
    """Issue 32: the teacher's prompt took the first 8 demonstrations; sorted by label (as
    bench.unseen gives them), TREC's teacher saw two of its six labels."""
    from p2m.tools.scoring.predictions import teacher_messages

    labels = ["abbreviation", "description", "entity", "human", "location", "numeric"]
    demos = [{"input": f"question {i} about {label}?", "output": label} for label in labels for i in range(3)]
    task = TaskSpec(instruction="Question type", labels=labels, examples=demos)
    shown = [m["content"] for m in teacher_messages(task, "Who wrote Dubliners?") if m["role"] == "assistant"]
    assert len(shown) == 18
    assert [json.loads(s)["label"] for s in shown[:6]] == labels  # dealt round-robin by label
    long_demos = [{"input": f"{'a long question ' * 60}{i}", "output": label} for label in labels for i in range(3)]
    cut = teacher_messages(task.model_copy(update={"examples": [type(task.examples[0])(**d) for d in long_demos]}), "x")
    seen = {json.loads(m["content"])["label"] for m in cut if m["role"] == "assistant"}
    assert seen == set(labels) and len(cut) < 2 * 18 + 2  # a budget cut keeps every label


def test_a_scoring_teacher_labels_by_its_most_probable_label():
    from p2m.llm.scripted_llm import ScriptedLLM
    from p2m.tools.scoring.predictions import teacher_predict

    llm = ScriptedLLM([{"purpose": "teacher", "probs": {"negative": 0.3, "positive": 0.7}},
                       {"purpose": "teacher", "probs": {"negative": 0.6, "positive": 0.4}}])
    task = TaskSpec(instruction="sentiment", labels=LABELS)
    assert teacher_predict(llm, task, ["fine", "meh"])[0] == ["positive", "negative"]
    assert llm.usage.to_dict()["by_purpose"]["teacher"] == 2  # scored calls are counted like others
