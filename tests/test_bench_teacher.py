"""bench.teacher: demonstrations and test rows are drawn at random (a test file sorted by label
must not give one class), and the teacher is scored on gold labels."""
import json
import sys


def test_rows_are_drawn_at_random_and_scored_on_gold(tmp_path, monkeypatch, capsys):
    from bench import teacher

    task = tmp_path / "task"
    task.mkdir()
    (task / "card.json").write_text(json.dumps({"name": "toy", "description": "Sort by sign.",
                                                "task_type": "classification", "labels": ["neg", "pos"]}))
    rows = lambda n: "".join(json.dumps({"input": f"row {i}", "output": "neg" if i < n // 2 else "pos"}) + "\n"
                             for i in range(n))  # noqa: E731  (sorted by label, as some test files are)
    (task / "train.jsonl").write_text(rows(40))
    (task / "test.jsonl").write_text(rows(200))
    script = tmp_path / "replies.jsonl"
    script.write_text("".join(json.dumps({"purpose": "teacher", "json": {"label": "pos"}}) + "\n"
                              for _ in range(20)))
    monkeypatch.setattr(sys, "argv", ["teacher", str(task), "--n", "20", "--demos", "2",
                                      "--llm", f"scripted:{script}"])
    assert teacher.main() == 0
    out = json.loads(capsys.readouterr().out)
    assert out["n"] == 20 and out["demos"] == 4
    # always "pos": its accuracy is the share of positive rows drawn, neither 0 nor 1 when drawn at random
    assert 0.2 < out["metric"]["value"] < 0.8


def test_a_task_without_labels_draws_k_demonstrations_and_dev_rows_are_never_shown(tmp_path, monkeypatch,
                                                                                    capsys):
    """QA: K demonstrations in all (not K per distinct answer), --dev scores train rows that are not
    demonstrations, and every answer a row lists counts as gold."""
    from bench import teacher

    task = tmp_path / "qa"
    task.mkdir()
    (task / "card.json").write_text(json.dumps({"name": "qa", "description": "Answer from the passage.",
                                                "task_type": "extractive_qa", "labels": None}))
    rows = "".join(json.dumps({"input": f"Context: Ann met Bo on day {i}.\nQuestion: When?",
                               "output": f"day {i}", "answers": [f"day {i}", "on day"]}) + "\n"
                   for i in range(30))
    (task / "train.jsonl").write_text(rows)
    (task / "test.jsonl").write_text("")  # --dev never reads it
    script = tmp_path / "replies.jsonl"
    script.write_text("".join(json.dumps({"purpose": "teacher", "json": {"output": "on day"}}) + "\n"
                              for _ in range(10)))
    monkeypatch.setattr(sys, "argv", ["teacher", str(task), "--n", "10", "--demos", "3", "--dev",
                                      "--llm", f"scripted:{script}"])
    assert teacher.main() == 0
    out = json.loads(capsys.readouterr().out)
    assert out["demos"] == 3 and out["n"] == 10 and out["rows"] == "dev (train split)"
    assert out["metric"]["value"] == 1.0  # "on day" is a listed answer of every row
