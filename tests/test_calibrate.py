"""p2m calibrate (p2m/calibrate.py): the cascade refitted on more held-out texts."""
import json

import pytest

from p2m.llm.scripted_llm import ScriptedLLM
from p2m.calibrate import calibrate_run, calibration_texts
from p2m.runfolder.rundir import RunDir, RunError
from p2m.tools.scoring.cascade import confident, load_threshold



@pytest.fixture()
def run(tmp_path, finish_tiny_sst2_run):
    return finish_tiny_sst2_run(tmp_path / "run")


def texts(shared, n):
    rows = (shared / "datasets/sst2/train.jsonl").read_text().splitlines()[-n:]
    return [json.loads(line)["input"] for line in rows]


def test_enough_agreeing_held_out_texts_fit_a_threshold_where_the_run_had_none(run, shared):
    """Issue 33: 62 held-out rows cannot show a 2% bound (149 needed); 200 more texts the teacher
    labels can. A teacher that agrees with the model on every text: all answered alone."""
    assert (load_threshold(run / "model") or {}).get("threshold") is None
    more = texts(shared, 200)
    labels, _ = confident(run / "model", more)
    teacher = ScriptedLLM([{"purpose": "teacher", "probs": {label: 0.9}} for label in labels])
    fitted = calibrate_run(run, more, n=200, teacher=teacher)
    assert fitted["threshold"] is not None and fitted["answered_alone"] == 1.0 and fitted["n"] >= 200
    assert load_threshold(run / "model")["threshold"] == fitted["threshold"]
    assert "## Cascade" in (run / "model" / "README.md").read_text() and "200 texts labelled" in fitted["calibration_rows"]
    again = calibrate_run(run, more, n=200, teacher=ScriptedLLM([]))  # asked once: nothing asked again
    assert again["threshold"] == fitted["threshold"]


def test_texts_the_model_saw_are_never_calibration_rows_and_bad_inputs_are_named(run, tmp_path):
    seen = [e.input for e in RunDir(run).store.all()][:3]
    assert calibration_texts(RunDir(run), seen + ["new one", "New one ", "another"], 10) == ["new one", "another"]
    with pytest.raises(RunError, match="no LLM"):
        calibrate_run(run, ["a fresh text"])
    (run / "calibration.json").write_text('{"not": "rows"}')
    with pytest.raises(RunError, match="calibration.json: not a list"):
        calibrate_run(run, ["a fresh text"], teacher=ScriptedLLM([]))


def test_the_command_line_names_the_problem(run, tmp_path, capsys):
    from p2m.cli import main

    more = tmp_path / "more.txt"
    more.write_text("a fresh review\nanother fresh review\n")
    assert main(["calibrate", str(run), "--file", str(more)]) == 2
    assert "no LLM" in capsys.readouterr().err
