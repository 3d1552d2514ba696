"""The decision trace: one JSON line per planner decision, guard override and tool call."""
from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any, Iterator

from ..files import append_durably, redact
from ..schemas import TraceEvent


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


def read_trace(path: str | Path) -> Iterator[dict[str, Any]]:
    path = Path(path)
    if not path.exists():
        return
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line:
                try:
                    yield json.loads(line)
                except json.JSONDecodeError:
                    continue  # a torn last line after a kill
