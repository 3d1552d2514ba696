"""p2m/trace_view.py: a run's trace as a timeline, and one step opened (issue 36 item 1)."""
import json

import pytest

from p2m.cli import main
from p2m.trace_view import step_detail, timeline_rows



@pytest.fixture(scope="module")
def run(tmp_path_factory, finish_tiny_sst2_run):
    return finish_tiny_sst2_run(tmp_path_factory.mktemp("trace_view") / "run")


def steps(run):
    return [step_detail(run, n) for n in range(1, step_detail(run, 1)["of"] + 1)]


def test_each_step_says_what_was_legal_and_why_the_rest_was_not(run):
    first = step_detail(run, 1)
    assert first["decided"]["tool"] == "search_datasets" and first["decided"]["by"] == "policy"
    assert "search_datasets" in first["options"]["legal"]
    assert first["options"]["refused"]["train"] and first["options"]["refused"]["evaluate"]  # nothing to train yet
    assert first["guard"] == {"verdict": "accepted"} and first["ran"]["tool"] == "search_datasets"
    assert first["decided"]["cost_usd"] == 0.0 and first["ran"]["cost_usd"] == 0.0  # no LLM: nothing spent


def test_a_step_shows_the_rows_it_added_and_the_metric_before_and_after(run):
    opened = steps(run)
    load = next(s for s in opened if s["decided"]["tool"] == "load_dataset")
    added = load["ran"]["added"]
    assert added["rows"] > 0 and any(k.startswith("dataset/") for k in added["by_source"])
    assert set(added["by_output"]) <= {"negative", "positive"}
    score = next(s for s in opened if s["decided"]["tool"] == "evaluate")
    assert score["metric_before"] is None and score["metric_after"]["name"] == "accuracy"
    assert next(s for s in opened if s["decided"]["tool"] == "choose_model")["ran"]["added"] == "no rows"


def test_the_command_line_opens_a_step_and_names_the_range(run, capsys):
    assert main(["trace", str(run), "--step", "1", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["decided"]["tool"] == "search_datasets"
    assert main(["trace", str(run), "--step", "2"]) == 0
    out = capsys.readouterr().out
    assert "legal then:" in out and "tokens, $0.0000; rows added" in out
    assert main(["trace", str(run), "--step", "99"]) == 2
    assert "the run has steps 1 to" in capsys.readouterr().err


def test_a_trace_from_before_the_menu_was_recorded_still_opens(run, tmp_path):
    old = tmp_path / "old"
    old.mkdir()
    for name in ("task.json", "config.json"):
        (old / name).write_text((run / name).read_text())
    events = [json.loads(line) for line in (run / "trace.jsonl").read_text().splitlines()]
    for e in events:
        e.pop("options", None), e.pop("added", None)
    (old / "trace.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events))
    detail = step_detail(old, 1)
    assert detail["options"].startswith("not recorded") and detail["ran"]["added"] == "not recorded"
    assert timeline_rows(old)
