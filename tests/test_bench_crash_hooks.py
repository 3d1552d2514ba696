"""bench.crash_hooks: the torn and short appends it injects really happen."""
import json
import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
APPEND = ("import sys; from bench import crash_hooks; import os; crash_hooks.install(os.environ['P2M_CRASH']);"
          "from p2m.core import files\n"
          "for i in range(4): files.append_durably(__import__('pathlib').Path(sys.argv[1]), "
          "(__import__('json').dumps({'row': i, 'pad': 'x' * 40}) + '\\n').encode())")


def run(spec: str, path: Path) -> int:
    return subprocess.run([sys.executable, "-c", APPEND, str(path)], cwd=ROOT, env={"P2M_CRASH": spec,
                          "PATH": "/usr/bin:/bin"}, timeout=120).returncode


def test_a_torn_append_kills_the_process_mid_row(tmp_path):
    path = tmp_path / "rows.jsonl"
    assert run("torn:3", path) == -signal.SIGKILL
    lines = path.read_bytes().split(b"\n")
    assert [json.loads(x)["row"] for x in lines[:2]] == [0, 1] and lines[2].startswith(b'{"row": 2')
    assert not lines[2].endswith(b"}")


def test_short_writes_still_leave_every_row_whole(tmp_path):
    path = tmp_path / "rows.jsonl"
    assert run("short:2", path) == 0
    assert [json.loads(x)["row"] for x in path.read_text().splitlines()] == [0, 1, 2, 3]
