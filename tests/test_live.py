"""A run as it happens: `p2m trace RUN --follow`, the step running now and its rows so far."""
import os
import subprocess
import sys
import threading

from p2m import runner
from p2m.runfolder.trace import TraceWriter
from p2m.cli import main
from p2m.core.config import RunConfig
from p2m.live import follow, live_status, status_line
from p2m.runfolder.rundir import RunDir
from p2m.core.schemas import TaskSpec


def half_run(tmp_path, pid):
    """A run stopped in the middle of step 1 (generate_examples, 3 rows written), `pid` holding it."""
    run = RunDir(tmp_path)
    run.create(TaskSpec(instruction="Sentiment", labels=["negative", "positive"]), RunConfig())
    trace = TraceWriter(run.trace_path)
    trace.write("runner", "start")
    run.save_step(0)
    trace.write("planner", "decision", tool="generate_examples", args={"n": 8}, summary={"by": "policy"})
    (tmp_path / "data").mkdir(exist_ok=True)
    (tmp_path / "data" / "examples.jsonl").write_text(
        "".join(f'{{"input": "row {i}", "output": "positive", "split": "train", "source": {{"kind": "generated"}}}}\n'
                for i in range(3)))
    (tmp_path / "run.lock").write_text(str(pid))
    return run


def test_the_step_in_progress_and_its_rows_so_far(tmp_path):
    half_run(tmp_path, os.getpid())
    status = live_status(tmp_path)
    assert status["state"] == "running" and status["tool"] == "generate_examples" and status["step"] == 1
    assert status["rows_added"] == 3
    assert status_line(status).startswith("step 1: generate_examples running for")
    lines = []
    assert follow(tmp_path, lines.append, interval=0.01, max_s=0)["state"] == "running"
    assert any("decide generate_examples" in line for line in lines)
    assert lines[-1].startswith("... step 1: generate_examples running for") and "3 rows added so far" in lines[-1]


def test_a_killed_run_reads_as_stopped_and_says_how_to_go_on(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    half_run(tmp_path, dead.pid)
    status = live_status(tmp_path)
    assert status["state"] == "stopped" and status["pid"] is None
    assert "p2m resume RUN goes on from there" in status_line(status)
    lines = []
    assert follow(tmp_path, lines.append, interval=0.01)["state"] == "stopped"  # returns at once


def test_follow_shows_a_real_run_as_it_happens_until_it_ends(tmp_path, sst2_catalog, tiny_model_dir, capsys):
    config = RunConfig(llm="none", catalog=[str(sst2_catalog)], model=str(tiny_model_dir))
    config.train.epochs, config.budget.max_iterations = 1, 1
    out = tmp_path / "run"
    runner.create_run(TaskSpec(instruction="Classify movie review sentiment.", labels=["negative", "positive"]),
                      config, out)
    ctx = runner.open_context(out, progress=False)
    thread = threading.Thread(target=lambda: runner.execute(ctx))
    thread.start()
    while not (out / "trace.jsonl").exists():
        thread.join(0.05)
    lines = []
    status = follow(out, lines.append, interval=0.05, max_s=600)
    thread.join()
    assert status["state"] == "finished" and RunDir(out).holder() is None
    assert any("train [" in line for line in lines) and any("evaluate [" in line for line in lines)
    assert lines[-1] == f"... finished after {status['steps']} steps"
    assert main(["trace", str(out), "--follow"]) == 0  # a finished run: its events, then it returns
    assert "finished after" in capsys.readouterr().out
