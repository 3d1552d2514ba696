"""`p2m chat`: pin the task down in a terminal conversation, then run it; resumable any time.

The intake graph (graph/intake.py) and the run share the run directory: the conversation is
checkpointed in RUN/checkpoints.sqlite (thread "chat"), the run in the same file (thread "run").
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable, Optional

from langgraph.types import Command

from p2m import runner
from p2m.core.config import RunConfig
from p2m.core.files import write_json_atomic
from p2m.graph.graph import sqlite_checkpointer
from p2m.graph.intake import CHAT_THREAD, build_intake
from p2m.runfolder.rundir import RunDir
from p2m.core.schemas import TaskSpec
from p2m.runfolder.run_files import CHAT_CONFIG, CHECKPOINTS


def chat(out: str | Path, config: RunConfig, resume: bool = False,
         ask: Callable[[str], str] = input, say: Callable[[str], None] = print) -> Optional[dict[str, Any]]:
    """Hold the conversation, then execute the run; returns its report (None if the user quit)."""
    run_dir = runner.check_run_name(out)
    if RunDir(run_dir).is_run:  # the chat is over: continue (or show) the run
        say(f"{run_dir} already holds a run; continuing it.")
        return runner.resume(run_dir, progress=False)
    if resume and not (run_dir / CHECKPOINTS).is_file():
        raise runner.RunError(f"{run_dir} has no conversation to resume")
    if not resume and (run_dir / CHECKPOINTS).is_file():
        raise runner.RunError(f"{run_dir} already holds a conversation; use `p2m chat --resume {run_dir}`")
    run_dir.mkdir(parents=True, exist_ok=True)
    if not resume:
        write_json_atomic(run_dir / CHAT_CONFIG, config.to_dict())
    config = RunConfig.from_dict(json.loads((run_dir / CHAT_CONFIG).read_text()))
    llm = runner.make_run_llm(config, run_dir)
    graph = build_intake(llm, sqlite_checkpointer(run_dir / CHECKPOINTS))
    snapshot = graph.get_state(CHAT_THREAD)
    payload: Any = None if snapshot.values else {"draft": {}, "transcript": [], "revisions": []}
    pending = [i.value for t in snapshot.tasks for i in (t.interrupts or ())]
    while True:
        if pending:  # a question asked before the conversation was left
            result = _answer(graph, pending[-1], ask, say)
        else:
            result = graph.invoke(payload, CHAT_THREAD)
        if result is None:
            say(f"Saved. Continue with: p2m chat --resume {run_dir}")
            return None
        interrupts = result.get("__interrupt__") if isinstance(result, dict) else None
        if not interrupts:
            break
        pending = [interrupts[-1].value]
    state = graph.get_state(CHAT_THREAD).values
    task = TaskSpec.model_validate(state["draft"])
    runner.create_run(task, config, run_dir)
    ctx = runner.open_context(run_dir, progress=False, llm=llm)
    runner.record_conversation(ctx, state.get("revisions", []), state["transcript"])
    say(f"Running {run_dir} ...")
    return runner.execute(ctx)


def _answer(graph: Any, question: dict[str, Any], ask: Callable[[str], str],
            say: Callable[[str], None]) -> Optional[dict[str, Any]]:
    say(question["question"])
    try:
        answer = ask("> ")
    except (EOFError, KeyboardInterrupt):
        return None
    if "=>" in answer and (question["field"] == "examples" or answer.lower().startswith("example")):
        lines = [answer]
        while True:  # more example lines until an empty one
            try:
                more = ask(". ")
            except (EOFError, KeyboardInterrupt):
                break
            if not more.strip():
                break
            lines.append(more)
        answer = "\n".join(lines)
    return graph.invoke(Command(resume=answer), CHAT_THREAD)
