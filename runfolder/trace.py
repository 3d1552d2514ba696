"""The decision trace: one JSON line per planner decision, guard override and tool call."""
from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any, Iterator, Optional

from p2m.core.files import append_durably, redact
from p2m.core.schemas import TraceEvent


class TraceWriter:
    """Appends events to `RUN/trace.jsonl`, flushed and fsynced one by one."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()

    def write(self, node: str, kind: str, **fields: Any) -> TraceEvent:
        event = TraceEvent(time=round(time.time(), 3), node=node, kind=kind, **fields)
        line = json.dumps(redact(event.model_dump()), ensure_ascii=False, default=str)
        with self._lock:
            append_durably(self.path, (line + "\n").encode("utf-8"))
        return event


def read_trace(path: str | Path, skipped: Optional[list[int]] = None) -> Iterator[dict[str, Any]]:
    """The trace's events. A line that is not an event (a torn last line after a kill, bytes
    that are not UTF-8, JSON that is not an event object) is passed over, its line number
    appended to `skipped` when given, so a viewer can say so instead of failing."""
    path = Path(path)
    if not path.exists():
        return
    with open(path, "rb") as f:
        for n, raw in enumerate(f, start=1):
            if not raw.strip():
                continue
            try:
                event = json.loads(raw.decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
                event = None
            if isinstance(event, dict) and isinstance(event.get("time"), (int, float)) \
                    and isinstance(event.get("node"), str) and isinstance(event.get("kind"), str):
                yield event
            elif skipped is not None:
                skipped.append(n)
