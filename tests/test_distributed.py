"""`p2m train RUN` under torchrun with 2 CPU processes (DDP over gloo): one model, written once."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

from p2m import runner
from p2m.core.config import RunConfig
from p2m.core.schemas import TaskSpec


def test_torchrun_two_cpu_processes_train_a_run(tmp_path, sst2_catalog, tiny_model_dir):
    config = RunConfig(llm="none", catalog=[str(sst2_catalog)], model=str(tiny_model_dir))
    config.train.epochs = 1
    config.budget.max_iterations = 1
    run = tmp_path / "run"
    runner.create_run(TaskSpec(instruction="Classify movie review sentiment.",
                               labels=["negative", "positive"]), config, run)
    runner.execute(runner.open_context(run, progress=False))
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OMP_WAIT_POLICY": "PASSIVE"}
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = str(s.getsockname()[1])
    proc = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2",
                           "--master_port", port, "-m", "p2m.cli", "train", str(run), "--epochs", "1",
                           "--quiet", "--out", str(tmp_path / "ddp")],
                          capture_output=True, text=True, timeout=600, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith('{"path"')]
    assert len(results) == 2  # each rank reports the same job
    assert (tmp_path / "ddp" / "model" / "config.json").is_file()
    assert not (tmp_path / "ddp" / "model.partial").exists()
    state = json.loads(sorted((tmp_path / "ddp" / "checkpoints").glob("checkpoint-*"))[-1]
                       .joinpath("trainer_state.json").read_text())
    assert state["global_step"] > 0
