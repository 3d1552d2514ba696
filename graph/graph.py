"""Wiring: planner -> guard -> act -> (planner | report), checkpointed after every step."""
from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any, Optional

from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
from langgraph.graph import END, START, StateGraph

from ..agent.context import RunContext
from ..files import redact
from .nodes import make_act, make_guard, make_planner, make_report
from .router import after_act
from .state import AgentState

THREAD = {"configurable": {"thread_id": "run"}}


class RedactingSerializer(JsonPlusSerializer):
    """LangGraph's serializer, with secrets redacted from every state and write it stores
    (error texts in the state could carry a key), and strict on reading: only LangGraph's
    allowlist of safe types is revived, so a crafted checkpoint cannot construct `os.system`
    or `subprocess.Popen` (the permissive default does, with a warning)."""

    def __init__(self) -> None:
        super().__init__(allowed_msgpack_modules=None)

    def dumps_typed(self, obj: Any) -> tuple[str, bytes]:
        return super().dumps_typed(redact(obj))


def sqlite_checkpointer(path: str | Path) -> Any:
    """LangGraph's SQLite saver on `path` (use langgraph-checkpoint-postgres to share runs)."""
    from langgraph.checkpoint.sqlite import SqliteSaver

    return SqliteSaver(sqlite3.connect(str(path), check_same_thread=False), serde=RedactingSerializer())


def build_graph(ctx: RunContext, checkpointer: Optional[Any] = None):
    """The compiled agent graph for one run."""
    builder = StateGraph(AgentState)
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
