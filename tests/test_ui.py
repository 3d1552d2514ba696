"""The Gradio app's pieces without a browser: runs table, chat revisions, playground."""
from __future__ import annotations

import json

import pytest

from p2m import runner
from p2m.config import RunConfig
from p2m.schemas import TaskSpec
from p2m.ui import Session, list_runs, playground, run_path, trace_table

TASK = TaskSpec(instruction="Classify movie review sentiment.", labels=["negative", "positive"])


@pytest.fixture(scope="module")
def runs_dir(tmp_path_factory, sst2_catalog, tiny_model_dir):
    root = tmp_path_factory.mktemp("runs")
    config = RunConfig(llm="none", catalog=[str(sst2_catalog)], model=str(tiny_model_dir))
    config.train.epochs = 1
    config.budget.max_iterations = 1
    runner.create_run(TASK, config, root / "finished")
    runner.execute(runner.open_context(root / "finished", progress=False))
    return root


def test_runs_table_and_trace(runs_dir):
    rows = list_runs(runs_dir)
    assert rows[0][0] == "finished" and rows[0][1] == "finished" and rows[0][2].startswith("accuracy")
    assert any("evaluate" in r[2] for r in trace_table(runs_dir / "finished"))


def test_playground_answers_without_a_teacher(runs_dir):
    student, teacher = playground(runs_dir / "finished", "a wonderful, moving film")
    assert student in ("negative", "positive") and "no teacher" in teacher


def test_only_listed_run_names_are_opened(runs_dir, tmp_path):
    outside = tmp_path / "elsewhere"
    runner.create_run(TASK, RunConfig(llm="none", catalog=[str(runs_dir)]), outside)
    assert run_path(runs_dir, "finished") == runs_dir / "finished"
    for typed in ("../elsewhere", str(outside), "..", ".", "", None, "finished/../finished", "nope"):
        assert run_path(runs_dir, typed) is None, typed


def task_reply(labels):
    return {"purpose": "parse_task", "json": {"instruction": "Classify review sentiment",
                                              "task_type": "classification", "labels": labels,
                                              "examples": [{"input": "great", "output": labels[-1]},
                                                           {"input": "awful", "output": labels[0]}]}}


def test_chat_revisions_reach_the_run_trace(tmp_path, write_script, sst2_catalog):
    """The UI's chat is the intake graph of `p2m chat`: it asks for what is missing, and free
    words that fill nothing asked are re-read by the LLM as a correction."""
    script = write_script(tmp_path / "chat.jsonl",
                          [task_reply(["neg", "pos"]), task_reply(["negative", "neutral", "positive"])])
    session = Session(f"scripted:{script}", tmp_path / "runs", [str(sst2_catalog)])
    assert session.reply("run") == "There is no task yet: describe it first."
    first = session.reply("classify reviews as neg or pos")
    assert "neg, pos" in first and "What score" in first
    assert "or say 'run'" in session.reply("0.9")
    assert "negative, neutral, positive" in session.reply("actually use negative, neutral and positive")
    assert "does not hold together" in session.reply("labels: a, b")  # the examples say otherwise
    assert "negative, neutral, positive" in session.reply("labels: negative, neutral, positive")
    started = session.reply("run")
    run = next((tmp_path / "runs").iterdir())
    assert run.name in started
    events = [json.loads(line) for line in (run / "trace.jsonl").read_text().splitlines()]
    revisions = [e["summary"]["labels"] for e in events if e["kind"] == "task_revision"]
    assert revisions == [["neg", "pos"], ["negative", "neutral", "positive"]]
    assert json.loads((run / "task.json").read_text())["labels"] == ["negative", "neutral", "positive"]
    from p2m.ui import ACTIVE

    ACTIVE[run.name].join(timeout=120)  # let the background run end before the tmp dir goes
