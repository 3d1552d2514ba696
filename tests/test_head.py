"""A head on frozen sentence embeddings: fitted, saved as JSON, run by predict_for like any
student, and portable (the packaged MiniLM is named, not its install path)."""
from p2m.rundir import has_model
from p2m.schemas import TaskSpec
from p2m.tools.embed import minilm_path
from p2m.tools.families import predict_for
from p2m.tools.head import (accuracy, encoder_name, fit_linear, is_head, load_head, predict_linear,
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
