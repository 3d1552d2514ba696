"""bench.unseen: the demonstrations it draws and the settings its flags pass to the run."""
import pytest

from bench.unseen import demonstrations, main, run_config


def test_demonstrations_are_drawn_per_label_with_the_seed():
    rows = [{"input": f"{label} {i}", "output": label} for label in "ab" for i in range(10)]
    demos = demonstrations(rows, 2, seed=0)
    assert [d["output"] for d in demos] == ["a", "a", "b", "b"]
    assert demos == demonstrations(rows, 2, seed=0) and demos != demonstrations(rows, 2, seed=1)


def test_flags_reach_the_run_config():
    config = run_config("local", [], model="all-mpnet-base-v2", classifier="finetune")
    assert config.model == "all-mpnet-base-v2" and config.train.classifier == "finetune"
    assert run_config("none", ["cat"]).model is None and run_config("none", []).train.classifier == "auto"


def test_unknown_classifier_is_refused(capsys):
    with pytest.raises(SystemExit):
        main(["--classifier", "svm"])
    assert "invalid choice" in capsys.readouterr().err
