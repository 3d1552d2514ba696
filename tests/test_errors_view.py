"""p2m errors (p2m/errors_view.py): the published model's mistakes beside the teacher's answers."""
import json

import pytest

from p2m import runner
from p2m.cli import main
from p2m.core.config import RunConfig
from p2m.errors_view import errors, render
from p2m.runfolder.rundir import RunError
from p2m.core.schemas import TaskSpec

TASK = TaskSpec(instruction="Classify sentiment", labels=["negative", "positive"],
                examples=[{"input": "great", "output": "positive"}, {"input": "awful", "output": "negative"}])


def rows(*triples):
    return [{"input": f"text {i}", "gold": g, "student": s, "baseline": None, "teacher": t}
            for i, (g, s, t) in enumerate(triples)]


def test_mistakes_per_class_confusion_and_who_was_right(tmp_path):
    runner.create_run(TASK, RunConfig(llm="none"), tmp_path / "run")
    run = tmp_path / "run"
    (run / "selection.json").write_text(json.dumps({"published": {"kind": "student", "iteration": 1}}))
    (run / "predictions").mkdir()
    (run / "predictions" / "iteration-1.json").write_text(json.dumps({"iteration": 1, "source": "user", "rows": rows(
        ("positive", "positive", "positive"), ("positive", "negative", "positive"),
        ("negative", "positive", "positive"), ("negative", "negative", None))}))
    (run / "predictions" / "iteration-2.json").write_text(json.dumps({"iteration": 2, "rows": []}))
    e = errors(run)
    assert e["model"] == "the published student (iteration 1)" and e["n"] == 4
    assert e["per_class"]["positive"] == {"support": 2, "student_right": 1, "teacher_right": 2, "teacher_asked": 2}
    assert e["confusion"]["rows_gold_columns_predicted"] == [[1, 1], [1, 1]]  # gold negative: 1 right, 1 wrong
    assert e["against_teacher"] == {"rows": 3, "disagree": 1, "student_right": 0, "teacher_right": 1, "both_wrong": 0}
    assert [m["who_was_right"] for m in e["mistakes"]] == ["the teacher", "neither"]
    assert any("disagreements" in line for line in render(run))


def test_a_scored_run_leaves_its_predictions_and_the_command_reads_them(tmp_path, sst2_catalog, tiny_model_dir, capsys):
    config = RunConfig(llm="none", catalog=[str(sst2_catalog)], model=str(tiny_model_dir))
    config.train.epochs, config.budget.max_iterations = 1, 1
    runner.create_run(TaskSpec(instruction="Classify movie review sentiment.", labels=["negative", "positive"]),
                      config, tmp_path / "run")
    with pytest.raises(RunError, match="no predictions"):
        errors(tmp_path / "run")
    runner.execute(runner.open_context(tmp_path / "run", progress=False))
    assert main(["errors", str(tmp_path / "run"), "--json"]) == 0
    e = json.loads(capsys.readouterr().out)
    assert e["n"] > 0 and sum(c["support"] for c in e["per_class"].values()) == e["n"]
    assert e["against_teacher"]["rows"] == 0  # --llm none: no teacher answered


def test_free_text_families_list_the_worst_rows_by_their_metric(tmp_path):
    task = TaskSpec(instruction="Translate", task_type="text2text",
                    examples=[{"input": "hello", "output": "bonjour"}, {"input": "thanks", "output": "merci"}])
    runner.create_run(task, RunConfig(llm="none"), tmp_path / "run")
    run = tmp_path / "run"
    (run / "predictions").mkdir()
    (run / "predictions" / "iteration-1.json").write_text(json.dumps({"iteration": 1, "rows": [
        {"input": "a", "gold": "bonjour tout le monde", "student": "bonjour tout le monde", "teacher": None},
        {"input": "b", "gold": "merci beaucoup", "student": "au revoir", "teacher": "merci"}]}))
    worst = errors(run)["worst"]
    assert [r["input"] for r in worst] == ["b", "a"] and worst[0]["similarity"] < 0.3 and worst[1]["similarity"] == 1.0
