"""RUN/: one process at a time executes a run; a dead holder never keeps it locked."""
import subprocess
import sys
import textwrap

import pytest

from p2m.runfolder.rundir import RunDir, RunError


def test_a_second_process_is_refused_with_the_holders_pid(tmp_path):
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import sys, time
        from p2m.runfolder.rundir import RunDir
        with RunDir({str(tmp_path)!r}).lock():
            print("held", flush=True)
            time.sleep(60)
    """)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(RunError, match=f"being executed by process {holder.pid}"):
            with RunDir(tmp_path).lock():
                pass
    finally:
        holder.kill()  # kill -9: the kernel releases the lock with the process
        holder.wait()
    with RunDir(tmp_path).lock():
        assert (tmp_path / "run.lock").read_text() == str(__import__("os").getpid())


def test_a_step_keeps_the_files_the_tools_rewrite_and_the_length_of_the_append_only_ones(tmp_path):
    """What `p2m fork` restores: JSON files (not task/config/report), data/*.json, model/'s
    threshold, and byte lengths of rows and trace; a step run again replaces its own."""
    import json

    run = RunDir(tmp_path)
    run.write_json("task.json", {"instruction": "x"})
    run.write_json("metrics.json", {"history": [1]})
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "examples.jsonl").write_text('{"input": "a"}\n')
    run.write_json("data/generation.json", {"rounds": 1})
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "cascade.json").write_text('{"threshold": 0.9}')
    (tmp_path / "trace.jsonl").write_text("{}\n{}\n")
    step = run.save_step(3)
    assert sorted(p.name for p in step.iterdir()) == ["data__generation.json", "metrics.json",
                                                       "model__cascade.json", "step.json"]
    assert json.loads((step / "step.json").read_text())["lengths"] == {
        "data/examples.jsonl": 15, "data/dropped.jsonl": 0, "trace.jsonl": 6}
    run.write_json("metrics.json", {"history": [1, 2]})
    run.save_step(3)
    assert json.loads((step / "metrics.json").read_text()) == {"history": [1, 2]}
    run.save_step(0)
    assert run.saved_steps() == [0, 3] and not (tmp_path / "steps" / "3.tmp").exists()
