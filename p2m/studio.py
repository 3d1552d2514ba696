"""The agent graph for LangGraph Studio / `langgraph dev` (see langgraph.json at the root).

The server brings its own checkpointer, so the graph is compiled without one. The run directory
comes from P2M_STUDIO_RUN; when it does not exist yet it is created from P2M_STUDIO_TASK (a task
file, default examples/sentiment.yaml) with the LLM from P2M_STUDIO_LLM (default: as `p2m run`).
"""
from __future__ import annotations

import os
from pathlib import Path

# Absolute imports: `langgraph dev` loads this file by its path, outside the package.
from p2m import runner
from p2m.llm.factory import default_spec
from p2m.core.config import RunConfig
from p2m.runfolder.rundir import RunDir
from p2m.graph.graph import build_graph
from p2m.runfolder.data_store import user_rows
from p2m.tools.data.task import load_task_file


def make_graph():
    run_dir = Path(os.environ.get("P2M_STUDIO_RUN", "runs/studio"))
    if not RunDir(run_dir).is_run:
        task = load_task_file(os.environ.get("P2M_STUDIO_TASK", "examples/sentiment.yaml"))
        runner.create_run(task, RunConfig(llm=os.environ.get("P2M_STUDIO_LLM") or default_spec()), run_dir)
    ctx = runner.open_context(run_dir, progress=False)
    if not ctx.store.all():
        ctx.store.add(user_rows(ctx.task, ctx.config.test_file))
    return build_graph(ctx)
