"""p2m eval (p2m/scoring.py): the student, the cascade and the teacher on the same gold rows."""
import json

import pytest

from p2m.llm.scripted_llm import ScriptedLLM
from p2m.scoring import score_run
from p2m.tools.scoring.cascade import save_threshold



@pytest.fixture(scope="module")
def run(tmp_path_factory, finish_tiny_sst2_run):
    return finish_tiny_sst2_run(tmp_path_factory.mktemp("scoring") / "run")


def gold(tmp_path, shared, n=12):
    data = tmp_path / "gold.jsonl"
    data.write_text("\n".join((shared / "datasets/sst2/test.jsonl").read_text().splitlines()[:n]))
    return data, [json.loads(line)["output"] for line in data.read_text().splitlines()]


def test_the_cascade_and_the_teacher_are_scored_on_the_same_rows(run, shared, tmp_path):
    """Issue 33 item 3: `p2m eval` gave the student alone; now the cascade (with the share it
    sends to the teacher) and the teacher on the same rows."""
    data, golds = gold(tmp_path, shared)
    teacher = ScriptedLLM([{"purpose": "teacher", "probs": {g: 0.9, ("positive" if g == "negative" else "negative"): 0.1}}
                           for g in golds])  # a teacher right on every row
    model = run / "model"
    save_threshold(model, {"threshold": 2.0, "budget": 0.02})  # above any confidence: all to the teacher
    result = score_run(run, data, teacher=teacher)
    same = result["same_rows"]
    assert same["n"] == 12 and same["teacher"] == 1.0 and same["cascade"] == 1.0 and same["sent_to_teacher"] == 1.0
    assert same["student"] == result["metric"]["value"]
    save_threshold(model, {"threshold": 0.0, "budget": 0.02})  # every row answered alone
    alone = score_run(run, data, teacher=ScriptedLLM([{"purpose": "teacher", "probs": {g: 0.9}} for g in golds]))
    assert alone["same_rows"]["sent_to_teacher"] == 0.0 and alone["same_rows"]["cascade"] == alone["metric"]["value"]


def test_without_a_teacher_it_says_so_and_no_teacher_skips_it(run, shared, tmp_path):
    data, _ = gold(tmp_path, shared)
    assert "no LLM" in score_run(run, data)["same_rows"]["skipped"]  # the run used --llm none
    assert "same_rows" not in score_run(run, data, with_teacher=False)
