"""p2m fork: a new run from any step of a finished run, with an edited task, settings or next
decision; nothing before the step runs again."""
import json
import sqlite3

import pytest

from p2m import runner
from p2m.llm.scripted_llm import ScriptedLLM
from p2m.runfolder.trace import read_trace
from p2m.cli import main
from p2m.core.config import RunConfig
from p2m.fork import fork_run, set_option
from p2m.runfolder.rundir import RunDir, RunError
from p2m.core.schemas import TaskSpec

DEMOS = [{"input": "a joy to watch", "output": "positive"}, {"input": "a dull mess", "output": "negative"}]
TASK = TaskSpec(instruction="Classify the sentiment of a movie review as positive or negative.",
                labels=["negative", "positive"], examples=DEMOS)
GENERATED = [{"purpose": "generate", "json": {"input": f"review {i}: {w}"}}
             for i, w in enumerate(["a dazzling debut", "clumsy and loud", "warm and witty", "a chore",
                                    "sharp writing", "forgettable"])]


AGAIN = ["the soundtrack alone is worth the ticket", "I walked out after forty minutes",
         "its quiet ending stayed with me for days", "wooden performances all round",
         "a clever twist I never saw coming", "two hours I will never get back"]


def script(texts=None):
    """Generation replies (other `texts` for a fork, so its rounds add new rows) and teacher answers."""
    return [{"purpose": "generate", "json": {"input": t}} for t in texts or [e["json"]["input"] for e in GENERATED]] \
        + [{"purpose": "teacher", "json": {"label": "negative"}}] * 12


def config(catalog, model, script_file):
    cfg = RunConfig(llm=f"scripted:{script_file}", catalog=[str(catalog)], model=str(model))
    cfg.train.epochs = 1
    cfg.budget.max_iterations = 2
    cfg.data.teacher_n = 4
    cfg.data.generate_n = 6
    cfg.data.concurrency = 1
    cfg.data.verify_votes = 0
    return cfg


def events(run_dir):
    return list(read_trace(run_dir / "trace.jsonl"))


def cache_keys(run_dir):
    with sqlite3.connect(str(run_dir / "llm_cache.sqlite")) as db:
        return {k for (k,) in db.execute("SELECT key FROM replies")}


@pytest.fixture(scope="module")
def finished(tmp_path_factory, sst2_catalog, tiny_model_dir):
    """A finished two-iteration SST-2 run with a scripted LLM, and the LLM it talked to."""
    root = tmp_path_factory.mktemp("fork")
    run_dir, script_file = root / "run", root / "script.jsonl"
    script_file.write_text("\n".join(json.dumps(e) for e in script()))
    runner.create_run(TASK, config(sst2_catalog, tiny_model_dir, script_file), run_dir)
    llm = ScriptedLLM(script())
    report = runner.execute(runner.open_context(run_dir, progress=False, llm=llm))
    assert report["iterations"] == 2
    return run_dir, llm


def test_a_fork_at_step_two_with_two_more_demonstrations_runs_on_without_repeating_a_call(finished, tmp_path):
    """Issue 36's done-when: the fork starts from step 2's checkpoint and files, runs to the end,
    and neither its trace nor its LLM shows any step before 2 run again."""
    run_dir, source_llm = finished
    source_events = events(run_dir)
    first_tool = next(i for i, e in enumerate(source_events) if e["kind"] == "tool")
    before_step_2 = source_events[:first_tool + 1]  # step 1 decided and ran
    task_file = tmp_path / "task.json"
    more = DEMOS + [{"input": "a tender, luminous film", "output": "positive"},
                    {"input": "tedious from start to finish", "output": "negative"}]
    task_file.write_text(json.dumps({**TASK.model_dump(), "examples": more}))

    fork_dir = fork_run(run_dir, 2, tmp_path / "fork", task=TaskSpec(**json.loads(task_file.read_text())))
    forked = events(fork_dir)
    assert forked[:len(before_step_2)] == before_step_2  # the same first step, not run again
    fork_event = forked[len(before_step_2)]
    assert fork_event["kind"] == "fork" and fork_event["summary"]["at_step"] == 2
    assert fork_event["summary"]["from"] == str(run_dir)
    assert fork_event["summary"]["task"]["demonstrations"] == [2, 4]
    assert cache_keys(run_dir) <= cache_keys(fork_dir)  # every reply the source got is there
    user_rows = [e for e in RunDir(fork_dir).store.all() if e.source.get("kind") == "user"]
    assert sorted(e.input for e in user_rows) == sorted(d["input"] for d in more)
    assert RunDir(run_dir).report() is not None and RunDir(fork_dir).report() is None

    fork_llm = ScriptedLLM(script())
    report = runner.execute(runner.open_context(fork_dir, progress=False, llm=fork_llm))
    assert report["iterations"] >= 1 and report["stop_reason"]
    after = events(fork_dir)[len(before_step_2) + 1:]
    assert after[0]["kind"] == "resume" and "decision" in [e["kind"] for e in after[1:3]]
    # step 1 ran once, in the source: the fork's decisions are steps 2 onwards
    assert len([e for e in events(fork_dir) if e["kind"] == "decision"]) == 1 + len(
        [e for e in after if e["kind"] == "decision"])
    # the source is untouched
    assert events(run_dir) == source_events


def test_fork_changes_settings_and_the_next_decision(finished, tmp_path):
    run_dir, _ = finished
    n_steps = len([e for e in events(run_dir) if e["kind"] == "decision"])
    fork_dir = fork_run(run_dir, n_steps + 1, tmp_path / "more", settings=["budget.max_iterations=3"],
                        then=("generate_examples", {"n": 4, "errors_only": True}))
    assert RunConfig.from_dict(RunDir(fork_dir).read_json("config.json")).budget.max_iterations == 3
    assert (fork_dir / "model").is_dir()  # the published model of the step, restored
    selection = RunDir(fork_dir).read_json("selection.json")
    assert selection["published"]["path"].startswith(str(fork_dir.resolve()))
    report = runner.execute(runner.open_context(fork_dir, progress=False, llm=ScriptedLLM(script(AGAIN))))
    new = events(fork_dir)
    assert report["iterations"] == 3 and report["stop_reason"] == "max iterations (3)", (
        report["stop_reason"], [(e["kind"], e.get("tool"), e.get("reason")) for e in new[-12:]])
    at = next(i for i, e in enumerate(new) if e["kind"] == "fork")
    first_tool = next(e for e in new[at:] if e["kind"] == "tool")
    assert first_tool["tool"] == "generate_examples" and first_tool["args"]["n"] == 4
    decision = next(e for e in new[at:] if e["kind"] == "decision")
    assert decision["tool"] == "generate_examples" and decision["summary"]["by"] == "user"


def test_fork_refuses_what_it_cannot_do_and_leaves_nothing_half_made(finished, tmp_path):
    run_dir, _ = finished
    with pytest.raises(RunError, match="can be forked at steps 1 to"):
        fork_run(run_dir, 99, tmp_path / "a")
    with pytest.raises(ValueError, match="no setting 'max_iteration'"):
        fork_run(run_dir, 2, tmp_path / "b", settings=["budget.max_iteration=3"])
    with pytest.raises(RunError, match="no such tool"):
        fork_run(run_dir, 2, tmp_path / "c", then=("dance", {}))
    other = TASK.model_copy(update={"task_type": "text2text", "labels": None})
    with pytest.raises(RunError, match="a task of another family is a new run"):
        fork_run(run_dir, 2, tmp_path / "d", task=other)
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    with pytest.raises(RunError, match="folder with files in it"):
        fork_run(run_dir, 2, tmp_path / "mine")
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"
    assert not any((tmp_path / x).exists() for x in "abcd")
    with pytest.raises(RunError, match="is not a p2m run"):
        fork_run(tmp_path / "mine", 1, tmp_path / "e")


def test_renamed_labels_carry_the_rows_and_the_cli_forks(finished, tmp_path, capsys):
    run_dir, _ = finished
    renamed = {**TASK.model_dump(), "labels": ["bad", "good"],
               "examples": [{"input": "a joy to watch", "output": "good"}, {"input": "a dull mess", "output": "bad"}]}
    task_file = tmp_path / "renamed.json"
    task_file.write_text(json.dumps(renamed))
    assert main(["fork", str(run_dir), "--at", "3", "--out", str(tmp_path / "r"), "--task-file", str(task_file),
                 "--no-run"]) == 0
    assert json.loads(capsys.readouterr().out)["next"] == f"p2m resume {tmp_path / 'r'}"
    rows = RunDir(tmp_path / "r").store.all()
    assert {e.output for e in rows} <= {"bad", "good"}
    assert any(e.source.get("renamed_from") == "positive" for e in rows)
    fork = next(e for e in events(tmp_path / "r") if e["kind"] == "fork")
    assert fork["summary"]["task"]["renamed_labels"] == {"negative": "bad", "positive": "good"}


def test_set_option_reads_json_values_and_names_bad_keys():
    cfg = RunConfig().to_dict()
    assert set_option(cfg, "budget.max_iterations=3")["budget"]["max_iterations"] == 3
    assert set_option(cfg, "llm=local")["llm"] == "local"
    with pytest.raises(ValueError, match="expected KEY=VALUE"):
        set_option(cfg, "budget.max_iterations")
    with pytest.raises(ValueError, match="no setting 'nope'"):
        set_option(cfg, "nope.x=1")


def test_the_fork_point_in_words(finished):
    """`--at` as words: 'before the second round', 'the first training', 'the end'."""
    from p2m.fork import fork_point

    run_dir, _ = finished
    tools = [e["tool"] for e in events(run_dir) if e["kind"] == "decision"]
    rounds = [i + 1 for i, t in enumerate(tools) if t in ("generate_examples", "label_inputs", "load_dataset")]
    assert fork_point(run_dir, "before the second round") == rounds[1]
    assert fork_point(run_dir, "the last round") == rounds[-1]
    assert fork_point(run_dir, "before the first training") == tools.index("train") + 1
    assert fork_point(run_dir, "the end") == len(tools) + 1
    assert fork_point(run_dir, "step 3") == 3 and fork_point(run_dir, "7") == 7
    with pytest.raises(ValueError, match="the run has 2 data round"):
        fork_point(run_dir, "before the fifth round")
    with pytest.raises(ValueError, match="say a step number"):
        fork_point(run_dir, "yesterday")
