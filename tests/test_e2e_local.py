"""One end-to-end run with the real embedded LLM (worth its minutes): it parses a free-text task,
plans, writes training data, trains the student and is scored as the teacher."""
import json


from p2m import runner
from p2m.core.config import RunConfig


def test_free_text_run_with_the_local_llm(tmp_path, tiny_model_dir):
    gold = tmp_path / "gold.jsonl"  # rows the user labelled: the run is scored on these
    gold.write_text("".join(json.dumps({"input": t, "output": o}) + "\n" for t, o in (
        ("My order is three weeks late and support ignores me.", "complaint"),
        ("Thank you, the repair was quick and free!", "praise"),
        ("The charger broke on day one.", "complaint"),
        ("Lovely staff and a spotless room.", "praise"))))
    # planner="llm": the embedded model plans here (by default the policy plans beside it).
    cfg = RunConfig(llm="local", model=str(tiny_model_dir), test_file=str(gold), planner="llm")
    cfg.train.epochs = 2
    cfg.train.learning_rate = 1e-3
    cfg.budget.max_iterations = 1
    cfg.data.generate_n = 16
    cfg.data.min_train = 12
    cfg.data.teacher_n = 6
    prompt = ("Classify a short customer message as 'complaint' or 'praise'. Examples: "
              "'The package arrived broken and nobody answers the phone.' -> complaint; "
              "'Wonderful service, the staff were so kind!' -> praise")
    report = runner.start(prompt, None, cfg, tmp_path / "run", progress=False)
    task = json.loads((tmp_path / "run" / "task.json").read_text())
    assert task["task_type"] == "classification"
    assert sorted(label.lower() for label in task["labels"]) == ["complaint", "praise"]
    assert report["n_generated"] > 0 and report["metric"] is not None
    assert report["teacher"]["n"] > 0 and 0 <= report["teacher"]["value"] <= 1
    assert "1.5b" in report["teacher"]["model"]  # the embedded 1.5B teaches beside the 0.5B
    assert report["test"] == {"source": "user", "mode": "holdout", "n": 4}
    assert report["llm_calls"] > 10 and report["llm"]["backend"] == "local"
    events = [json.loads(l) for l in (tmp_path / "run" / "trace.jsonl").read_text().splitlines()]
    assert any(e["kind"] == "decision" and e["summary"]["by"] == "llm" for e in events)
