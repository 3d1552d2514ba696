from pathlib import Path

import pytest

from p2m.runfolder.context import RunContext
from p2m.llm.scripted_llm import ScriptedLLM
from p2m.runfolder.trace import TraceWriter
from p2m.core.config import RunConfig
from p2m.agent.guard import check
from p2m.agent.policy import default_step
from p2m.agent.state import initial_state
from p2m.core.schemas import TaskSpec

TASK = TaskSpec(instruction="sentiment", labels=["negative", "positive"], target={"metric": "accuracy", "value": 0.9})


def ctx(tmp_path: Path, llm=None, catalog=True) -> RunContext:
    return RunContext(run_dir=tmp_path, task=TASK, config=RunConfig(), llm=llm,
                      trace=TraceWriter(tmp_path / "t.jsonl"), catalog=["x"] if catalog else [])


def test_policy_order(tmp_path):
    c = ctx(tmp_path)
    s = initial_state()
    assert default_step(s, c)["tool"] == "search_datasets"
    s.update(searched=True, candidates=[{"name": "sst2", "compatible": True}])
    assert default_step(s, c)["args"] == {"name": "sst2", "relabel": False}
    s.update(loaded=["sst2"], n_train=2000, n_test=500)
    assert default_step(s, c)["tool"] == "choose_model"
    s.update(model={"name": "m"})
    assert default_step(s, c)["tool"] == "train"
    s.update(trained_rows=2000, needs_eval=True)
    assert default_step(s, c)["tool"] == "evaluate"
    s.update(needs_eval=False, evaluations=1,
             history=[{"value": 0.95, "estimate": {"gold": True, "value": 0.95, "lower": 0.92}}])
    assert default_step(s, c) == {"tool": "finish", "args": {"reason": "target met"},
                                  "reason": "the metric reached the target", "by": "policy"}


@pytest.mark.parametrize("entry, met", [
    ({"value": 1.0}, False),  # the test split's figure: read to report, never to stop
    ({"value": 1.0, "estimate": {"gold": False, "value": 1.0, "lower": 1.0}}, False),  # LLM-written rows
    ({"value": 0.6, "estimate": {"gold": True, "value": 0.95, "lower": 0.85}}, False),  # point only
    ({"value": 0.6, "estimate": {"gold": True, "value": 0.97, "lower": 0.91}}, True),
])
def test_the_target_is_met_on_the_gold_estimate_lower_bound_never_the_test(tmp_path, entry, met):
    """Issue 32: target_met read the gold test metric's point value (a run on three fold rows
    stopped at chrF 0.60 with an interval of 0.01-1.0)."""
    from p2m.agent.router import target_met

    assert target_met({**initial_state(), "history": [entry]}, ctx(tmp_path)) is met


def test_policy_scores_a_trained_model_before_retraining_on_rows_added_since(tmp_path):
    """An LLM planner may generate between training and scoring; `train` refuses to replace an
    unscored model, so the policy (the guard's fallback) scores first instead of giving up."""
    c = ctx(tmp_path, llm=ScriptedLLM([]))
    s = {**initial_state(), "searched": True, "n_train": 67, "n_test": 4, "model": {"name": "m"},
         "trained_rows": 51, "needs_eval": True}
    step = default_step(s, c)
    assert step["tool"] == "evaluate" and check(step, s, c) is None
    s.update(needs_eval=False, evaluations=1, history=[{"value": 0.5}])
    assert default_step(s, c)["tool"] == "train"


def test_no_rows_are_written_before_the_model_that_would_say_whether_they_are_needed(tmp_path):
    """Before the first evaluation, writing is legal only below `min_train`; a trained model is
    scored before any more rows are written (a 0.5B planner generated for 30 steps otherwise)."""
    from p2m.tools.specs import offered_tools

    c = ctx(tmp_path, llm=ScriptedLLM([], max_calls=1000))
    s = {**initial_state(), "searched": True, "n_train": c.config.data.min_train - 1}
    assert check({"tool": "generate_examples", "args": {}}, s, c) is None
    s["n_train"] = c.config.data.min_train
    assert "train and score before writing more" in check({"tool": "generate_examples", "args": {}}, s, c)
    s.update(model={"name": "m"}, trained_rows=s["n_train"], needs_eval=True, n_test=5)
    assert "not evaluated yet" in check({"tool": "generate_examples", "args": {}}, s, c)
    assert [t.name for t in offered_tools(c, s)] == ["evaluate"]
    s.update(needs_eval=False, evaluations=1, history=[{"value": 0.5}])
    assert check({"tool": "generate_examples", "args": {"errors_only": True}}, s, c) is None


def test_policy_generates_when_short_and_llm_available(tmp_path):
    c = ctx(tmp_path, llm=ScriptedLLM([]))
    s = initial_state()
    s.update(searched=True, n_train=4)
    assert default_step(s, c)["tool"] == "generate_examples"
    s.update(n_train=500, n_test=100, model={"name": "m"}, trained_rows=500, evaluations=1,
             history=[{"value": 0.5}])
    step = default_step(s, c)
    assert step["tool"] == "generate_examples" and step["args"]["errors_only"] is True


def test_generation_stops_where_the_call_budget_could_not_pay_for_training_and_scoring(tmp_path):
    from p2m.tools.specs.generate_examples import PLANNER_RESERVE, generate_examples as generate_examples_tool, generation_room

    llm = ScriptedLLM([])
    c = ctx(tmp_path, llm=llm, catalog=False)
    c.config.budget.max_llm_calls = llm.max_calls = 100
    c.config.data.verify_votes = 1
    reserve = PLANNER_RESERVE + 0  # no gold rows yet: the task has no demonstrations
    assert generation_room(c) == (100 - reserve) // 2
    llm.usage.calls = 100 - reserve - 10  # 10 calls left: 5 rows, not worth a round
    s = initial_state()
    s.update(n_train=20)
    assert "budget" in check({"tool": "generate_examples", "args": {}}, s, c)
    assert default_step(s, c)["tool"] == "choose_model"  # train on what it has
    with pytest.raises(RuntimeError, match="pays for 5 rows"):
        generate_examples_tool(c, n=50)


def test_guard_preconditions(tmp_path):
    c = ctx(tmp_path)
    s = initial_state()
    assert check({"tool": "train", "args": {}}, s, c).startswith("no training without data")
    assert check({"tool": "evaluate", "args": {}}, s, c) == "no evaluation before training"
    assert check({"tool": "nope", "args": {}}, s, c) == "unknown tool 'nope'"
    assert "invalid arguments" in check({"tool": "generate_examples", "args": {"n": -3}}, s, c)
    assert check({"tool": "generate_examples", "args": {}}, s, c) == "no LLM to generate with"
    assert "left to load" in check({"tool": "load_dataset", "args": {"name": "x"}}, s, c)
    assert check({"tool": "search_datasets", "args": {}}, s, c) is None
    assert "finishing before" in check({"tool": "finish", "args": {}}, s, c)
    s.update(n_train=100, model={"name": "m"})
    assert check({"tool": "train", "args": {}}, s, c) is None
    s.update(trained_rows=100, needs_eval=True)
    assert check({"tool": "train", "args": {"epochs": 5}}, s, c) == "the trained model is not evaluated yet"
    s.update(needs_eval=False, failures={"train": 2})
    assert "failed 2 times" in check({"tool": "train", "args": {}}, s, c)


def test_repeating_the_last_call_or_rechoosing_the_same_model_is_refused(tmp_path):
    s, c = initial_state(), ctx(tmp_path)
    s.update(n_train=100, model={"name": "m", "path": "/m"})
    assert "not trained yet" in check({"tool": "choose_model", "args": {"name": "m"}}, s, c)
    s.update(trained_rows=100, evaluations=1)
    assert "already chosen" in check({"tool": "choose_model", "args": {"name": "m"}}, s, c)
    s["last"] = {"tool": "evaluate", "args": {}, "summary": {}}
    assert "repeats the previous" in check({"tool": "evaluate", "args": {}}, s, c)


def test_a_model_that_is_not_on_disk_is_refused_before_the_tool_runs(tmp_path, tiny_model_dir):
    s, c = initial_state(), ctx(tmp_path)
    why = check({"tool": "choose_model", "args": {"name": "bert-large-uncased"}}, s, c)
    assert why.startswith("unknown model 'bert-large-uncased'") and "available:" in why
    assert check({"tool": "choose_model", "args": {"name": str(tiny_model_dir)}}, s, c) is None
    assert check({"tool": "choose_model", "args": {"name": ""}}, s, c) is None


def test_relabel_only_for_relabel_candidates_and_with_an_llm(tmp_path):
    s = initial_state()
    s.update(searched=True, candidates=[{"name": "agnews", "compatible": False, "relabel": True,
                                         "reason": "labels differ"}])
    assert default_step(s, ctx(tmp_path))["tool"] != "load_dataset"  # no LLM: nothing to relabel with
    c = ctx(tmp_path, llm=ScriptedLLM([]))
    assert default_step(s, c)["args"] == {"name": "agnews", "relabel": True}
    assert check({"tool": "load_dataset", "args": {"name": "agnews"}}, s, c).startswith("agnews does not fit")
    assert "not returned" in check({"tool": "load_dataset", "args": {"name": "x"}}, s, c)
    assert check({"tool": "load_dataset", "args": {"name": "agnews", "relabel": True}}, s, c) is None


def test_dollar_budget_stops_the_run(tmp_path):
    from p2m.agent.router import budget_stop

    llm = ScriptedLLM([])
    c = ctx(tmp_path, llm=llm)
    c.config.budget.max_cost_usd = 0.5
    assert budget_stop(initial_state(), c) is None
    llm.usage.cost_usd = 0.51
    assert budget_stop(initial_state(), c) == "max cost ($0.50)"


def test_generation_rounds_are_capped(tmp_path):
    c = ctx(tmp_path, llm=ScriptedLLM([]))
    s = initial_state()
    assert "per-round cap" in check({"tool": "generate_examples", "args": {"n": 500}}, s, c)
    assert check({"tool": "generate_examples", "args": {"n": c.config.data.generate_n}}, s, c) is None


def test_no_round_is_started_that_would_leave_no_time_to_train_and_score(tmp_path):
    """A round as long as the last one must leave training and scoring time: else the run
    trains on what it has (first) or stops with that reason (later)."""
    c = ctx(tmp_path, llm=ScriptedLLM([]))
    c.config.budget.max_wall_s = 3600
    s = initial_state()
    s.update(searched=True, n_train=43, gen_rounds=1, last_round_s=2600, elapsed_s=2700)
    assert default_step(s, c)["tool"] == "choose_model"  # 43 rows, no time for another round
    s.update(elapsed_s=300)  # 3300 s left > 2600 s for a round + 540 s to train and score
    assert default_step(s, c)["tool"] == "generate_examples"
    s.update(n_train=500, n_test=100, model={"name": "m"}, trained_rows=500, evaluations=1,
             history=[{"value": 0.5}], elapsed_s=3000)
    step = default_step(s, c)
    assert step["tool"] == "finish" and "wall time left" in step["args"]["reason"]
