"""Wiring: planner -> guard -> act -> (planner | report), checkpointed after every step."""
from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any, Optional

from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
from langgraph.graph import END, START, StateGraph

from p2m.runfolder.context import RunContext
from p2m.core.files import redact
from p2m.runfolder.rundir import RunError
from p2m.agent.planner import make_planner
from p2m.graph.nodes import make_act, make_guard, make_report
from p2m.agent.router import after_act
from p2m.agent.state import state_schema

THREAD = {"configurable": {"thread_id": "run"}}
WRITTEN_TYPES = {"msgpack", "null", "empty", "bytes", "bytearray"}  # what JsonPlusSerializer writes


class RedactingSerializer(JsonPlusSerializer):
    """LangGraph's serializer, with secrets redacted from every state and write it stores
    (error texts in the state could carry a key), and strict on reading: only LangGraph's
    allowlist of safe types is revived, so a crafted checkpoint cannot construct `os.system`
    or `subprocess.Popen` (the permissive default does, with a warning)."""

    def __init__(self) -> None:
        super().__init__(allowed_msgpack_modules=None)

    def dumps_typed(self, obj: Any) -> tuple[str, bytes]:
        return super().dumps_typed(redact(obj))

    def loads_typed(self, data: tuple[str, bytes]) -> Any:
        """A stored value of a type p2m writes; any other (pickle, json) means the file was
        altered: refused with a RunError naming it, never revived and never a traceback."""
        kind = data[0] if isinstance(data, tuple) and data else None
        if kind not in WRITTEN_TYPES:
            raise RunError(f"checkpoints.sqlite holds a value of type {str(kind)[:20]!r}, which p2m never "
                           "writes: the file was altered. Move it aside and resume: the run's steps start "
                           "again on the data it kept")
        try:
            return super().loads_typed(data)
        except Exception as exc:  # truncated or corrupt bytes
            raise RunError(f"checkpoints.sqlite holds a value that cannot be read "
                           f"({type(exc).__name__}): the file was altered or damaged. Move it aside and "
                           "resume") from None


def sqlite_checkpointer(path: str | Path) -> Any:
    """LangGraph's SQLite saver on `path` (use langgraph-checkpoint-postgres to share runs)."""
    from langgraph.checkpoint.sqlite import SqliteSaver

    return SqliteSaver(sqlite3.connect(str(path), check_same_thread=False), serde=RedactingSerializer())


def build_graph(ctx: RunContext, checkpointer: Optional[Any] = None):
    """The compiled agent graph for one run."""
    builder = StateGraph(state_schema())  # the agent's keys and every registered tool's
    builder.add_node("planner", make_planner(ctx))
    builder.add_node("guard", make_guard(ctx))
    builder.add_node("act", make_act(ctx))
    builder.add_node("report", make_report(ctx))
    builder.add_edge(START, "planner")
    builder.add_edge("planner", "guard")
    builder.add_edge("guard", "act")
    builder.add_conditional_edges("act", after_act, {"report": "report", "planner": "planner"})
    builder.add_edge("report", END)
    return builder.compile(checkpointer=checkpointer)
