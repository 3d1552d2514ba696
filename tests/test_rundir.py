"""RUN/: one process at a time executes a run; a dead holder never keeps it locked."""
import subprocess
import sys
import textwrap

import pytest

from p2m.rundir import RunDir, RunError


def test_a_second_process_is_refused_with_the_holders_pid(tmp_path):
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import sys, time
        from p2m.rundir import RunDir
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
