"""Extending p2m: a tool defined in this one file, with a state key of its own, is registered,
offered to the planner, run by the graph, kept in the checkpointed state and shown in the trace,
with no other file edited (issue 37, item 5)."""
from typing import Annotated

import pytest
from pydantic import Field

from p2m import runner
from p2m.agent.planner import planner_messages
from p2m.agent.state import initial_state
from p2m.core.config import RunConfig
from p2m.core.schemas import TaskSpec
from p2m.graph.graph import THREAD, build_graph, sqlite_checkpointer
from p2m.runfolder.context import RunContext
from p2m.runfolder.trace import read_trace
from p2m.tools.specs import REGISTRY, StateKey, ToolSpec, offered_tools, register, unregister, usual_order


def count_demonstrations(ctx: RunContext,
                         label: Annotated[str, Field(description="one label; empty: all")] = "") -> dict:
    """Count the task's demonstrations, of one label or of all."""
    return {"label": label, "n": sum(1 for e in ctx.task.examples if not label or e.output == label)}


COUNT = ToolSpec(
    name="count_demonstrations", run=count_demonstrations, when="when in doubt",  # arguments: the signature
    refuse=lambda args, state, ctx: None if not args["label"] or args["label"] in ctx.task.labels else "no such label",
    state={"demonstrations_counted": StateKey(-1, "demonstrations counted by count_demonstrations (-1: not yet)",
                                              lambda v, safe: f"demonstrations counted: {v}" if v >= 0 else None)},
    update=lambda result, args, state, ctx: {"demonstrations_counted": result["n"]},
    view=lambda result: f"{result['n']} demonstrations{' of ' + result['label'] if result['label'] else ''}")

TASK = TaskSpec(instruction="Classify the sentiment of a movie review as positive or negative.",
                labels=["negative", "positive"],
                examples=[{"input": "a joy to watch", "output": "positive"},
                          {"input": "a dull mess", "output": "negative"},
                          {"input": "tedious", "output": "negative"}])


@pytest.fixture
def counting_tool():
    register(COUNT)
    yield COUNT
    unregister(COUNT.name)


def test_a_tool_in_one_file_is_registered_offered_run_kept_and_traced(tmp_path, counting_tool, write_script):
    assert list(REGISTRY)[-2:] == ["count_demonstrations", "finish"]
    assert "count_demonstrations (when in doubt), finish" in usual_order()
    assert initial_state()["demonstrations_counted"] == -1
    assert COUNT.args.model_json_schema()["properties"]["label"]["description"] == "one label; empty: all"
    script = write_script(tmp_path / "script.jsonl", [
        {"purpose": "plan", "tool_calls": [{"name": "count_demonstrations", "args": {"label": "negative"}}],
         "content": "two labels: count them"}])
    cfg = RunConfig(llm=f"scripted:{script}")
    cfg.budget.max_steps = 4  # the tool, then the policy's steps until the guard stops the run
    run_dir = tmp_path / "run"
    runner.create_run(TASK, cfg, run_dir)
    ctx = runner.open_context(run_dir, progress=False)
    assert "count_demonstrations" in [t.name for t in offered_tools(ctx, initial_state())]
    runner.execute(ctx)

    tools = [e for e in read_trace(run_dir / "trace.jsonl") if e["kind"] == "tool"]
    counted = [e for e in tools if e["tool"] == "count_demonstrations" and "n" in (e.get("summary") or {})]
    assert counted and counted[0]["summary"] == {"label": "negative", "n": 2}
    state = build_graph(ctx, sqlite_checkpointer(run_dir / "checkpoints.sqlite")).get_state(THREAD).values
    assert state["demonstrations_counted"] == 2  # kept in the checkpointed state, not dropped
    prompt = planner_messages(state, ctx)
    assert "- demonstrations counted: 2" in prompt[1]["content"]
    assert "count_demonstrations (when in doubt)" in prompt[0]["content"]


def test_a_tool_may_not_take_a_name_or_a_state_key_already_owned(counting_tool):
    with pytest.raises(ValueError, match="already registered"):
        register(COUNT)
    with pytest.raises(ValueError, match="'history' is owned by evaluate"):
        register(ToolSpec(name="other", run=count_demonstrations,
                          state={"history": StateKey([], "a second owner")}))


def test_a_family_in_one_folder_is_registered_and_run_end_to_end(tmp_path, tiny_model_dir):
    """tests/toy_family is a whole family in one folder ("shout": the input in capitals); importing
    it makes its task type valid, and a run of it goes through the graph, the policy, its
    trainer and metric, and is traced, with no other file edited."""
    import tests.toy_family as toy  # noqa: F401  (registers the family)
    from p2m.tools.families import FAMILIES

    words = ["hello there", "good morning", "see you soon", "well done", "not now", "thank you", "all good",
             "come in", "sit down", "go ahead", "nice work", "try again", "hold on", "right away"]
    task = TaskSpec(instruction="Repeat the text in capitals.", task_type="capitals",  # an alias of its own
                    examples=[{"input": w, "output": w.upper()} for w in words])
    assert task.task_type == "shout" and task.target.metric == "exact_match" and "shout" in FAMILIES
    cfg = RunConfig(llm="none", model=str(tiny_model_dir))
    run_dir = tmp_path / "run"
    runner.create_run(task, cfg, run_dir)
    report = runner.execute(runner.open_context(run_dir, progress=False))
    tools = [e["tool"] for e in read_trace(run_dir / "trace.jsonl") if e["kind"] == "tool"]
    assert "train" in tools and "evaluate" in tools
    assert report["metric"]["name"] == "exact_match" and report["metric"]["value"] == 1.0
    assert report["published"].startswith("student")  # it learned to shout; the copying baseline did not
