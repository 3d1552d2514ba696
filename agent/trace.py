"""The decision trace: one JSON line per planner decision, guard override and tool call."""
from __future__ import annotations

import json
import os
import re
import threading
import time
from pathlib import Path
from typing import Any, Iterator

from ..schemas import TraceEvent

_KEY_PATTERN = re.compile(r"\b(sk-[A-Za-z0-9_\-]{8,}|hf_[A-Za-z0-9]{8,})")


def secrets() -> list[str]:
    """Values of secret-looking environment variables (API keys, tokens)."""
    out = []
    for name, value in os.environ.items():
        if value and len(value) >= 8 and re.search(r"(KEY|TOKEN|SECRET|PASSWORD)", name):
            out.append(value)
    return out


def redact(value: Any) -> Any:
    """`value` with API keys and tokens replaced by '[redacted]', recursively."""
    if isinstance(value, str):
        for secret in secrets():
            value = value.replace(secret, "[redacted]")
        return _KEY_PATTERN.sub("[redacted]", value)
    if isinstance(value, dict):
        return {k: redact(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact(v) for v in value]
    return value


class TraceWriter:
    """Appends events to `RUN/trace.jsonl`, flushed and fsynced one by one."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()

    def write(self, node: str, kind: str, **fields: Any) -> TraceEvent:
        event = TraceEvent(time=round(time.time(), 3), node=node, kind=kind, **fields)
        line = json.dumps(redact(event.model_dump()), ensure_ascii=False, default=str)
        with self._lock, open(self.path, "a", encoding="utf-8") as f:
            f.write(line + "\n")
            f.flush()
            os.fsync(f.fileno())
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
