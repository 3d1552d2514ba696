"""A head on frozen sentence embeddings: fitted, saved as JSON, run by predict_for like any
student, and portable (the packaged MiniLM is named, not its install path)."""
from p2m.runfolder.rundir import has_model
from p2m.core.schemas import TaskSpec
from p2m.tools.encoders.embed import minilm_path
from p2m.tools.families import predict_for
from p2m.tools.training.head import (accuracy, encoder_name, fit_linear, is_head, load_head, predict_linear,
                            save_head)

TEXTS = ["the striker scored twice in the final", "the goalkeeper saved a penalty",
         "simmer the sauce and add basil", "bake the bread for forty minutes"]
LABELS = ["sports", "sports", "cooking", "cooking"]


def test_head_learns_from_rows_and_runs_from_disk(tmp_path):
    head = fit_linear(TEXTS, LABELS, encoder=encoder_name(minilm_path()))
    assert head["encoder"] == "minilm" and head["classes"] == ["cooking", "sports"]
    texts = ["the team won the match", "whisk the eggs with sugar"]
    assert predict_linear(head, texts) == ["sports", "cooking"]
    assert accuracy(head, texts, ["sports", "sports"]) == 0.5
    model = save_head(head, tmp_path / "model")
    assert is_head(model) and has_model(model) and not (model / "config.json").exists()
    assert load_head(model) == head
    task = TaskSpec(instruction="Topic", labels=["sports", "cooking"])
    assert predict_for(task, model, texts) == ["sports", "cooking"]


def test_one_label_gives_a_constant_head_and_other_folders_are_named_by_path(tmp_path):
    head = fit_linear(TEXTS[:2], LABELS[:2])
    assert predict_linear(head, ["anything at all"]) == ["sports"]
    assert encoder_name(str(tmp_path)) == str(tmp_path)
    assert predict_linear(fit_linear(TEXTS, LABELS), []) == []


def test_three_labels_take_the_highest_score():
    texts = TEXTS + ["the new phone has a faster chip", "the laptop's battery lasts all day"]
    labels = LABELS + ["tech", "tech"]
    head = fit_linear(texts, labels)
    assert predict_linear(head, ["a tablet with a bright screen", "the keeper caught the ball"]) \
        == ["tech", "sports"]


def test_soft_targets_spread_a_row_over_its_labels_and_gold_rows_count_whole():
    from p2m.tools.training.head import soft_targets

    rows, labels, weights = soft_targets(["sports", "cooking"], [None, {"cooking": 0.8, "sports": 0.2}], 1.0)
    assert rows == [0, 1, 1] and labels == ["sports", "cooking", "sports"]
    assert weights[0] == 1.0 and abs(weights[1] - 0.8) < 1e-9 and abs(weights[2] - 0.2) < 1e-9
    _, _, flat = soft_targets(["cooking"], [{"cooking": 0.8, "sports": 0.2}], 2.0)  # T=2: p^(1/2)
    assert abs(flat[0] - 2 / 3) < 1e-9 and abs(sum(flat) - 1) < 1e-9


def test_a_head_learns_the_teachers_distribution_over_its_argmax():
    """A row the teacher is unsure of pulls the head less than one it is sure of."""
    texts = TEXTS + ["a recipe for a football team's dinner"]
    sure = fit_linear(texts, LABELS + ["cooking"], soft=[None] * 4 + [{"cooking": 1.0}])
    unsure = fit_linear(texts, LABELS + ["cooking"], soft=[None] * 4 + [{"cooking": 0.51, "sports": 0.49}])
    import numpy as np
    from p2m.tools.encoders.embed import embed

    x = embed(["a recipe for a football team's dinner"])
    margin = lambda h: float((x @ np.asarray(h["coef"]).T + h["intercept"])[0, 0])  # noqa: E731 (>0: sports)
    assert margin(unsure) > margin(sure)
