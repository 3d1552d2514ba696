"""`scripted:FILE`: replays recorded replies, for tests and for demonstrations.

The file is JSON Lines (or one JSON list). Each entry is one reply:
  {"content": "..."}                                   plain text
  {"json": {...}}                                      a structured reply (serialised for you)
  {"tool_calls": [{"name": "...", "args": {...}}], "content": "why"}
  {"error": "rate_limit" | "server_error" | "timeout", "retry_after": 0.1}
  {"probs": {"positive": 0.8, "negative": 0.2}}         a scored label distribution (then the
                                                       LLM scores labels, like the embedded one)
An optional "purpose" (plan, parse_task, generate, teacher, ...) files the entry under that
kind of call; calls take the next entry of their purpose, else the next general one. When
nothing is left the call fails with ScriptExhausted, which the agent treats like any LLM
failure (the planner falls back to the default policy).
"""
from __future__ import annotations

import json
import threading
from collections import defaultdict, deque
from pathlib import Path
from typing import Any, Optional, Sequence

from p2m.llm.llm import LLM, Messages, Reply
from p2m.llm.retry import TransientLLMError


class ScriptExhausted(RuntimeError):
    """The script has no reply left for this call."""


class ScriptedLLM(LLM):
    backend = "scripted"
    native_tools = True

    def __init__(self, entries: list[dict[str, Any]], name: str = "scripted", **kwargs: Any):
        kwargs.setdefault("retry_max_wait", 0.05)
        super().__init__(**kwargs)
        self.model = name
        self._queues: dict[str, deque] = defaultdict(deque)
        for entry in entries:
            self._queues[entry.get("purpose", "")].append(entry)
        self._lock = threading.Lock()
        self._current_purpose = ""
        self.seen: list[Messages] = []
        self.schemas: list[Optional[dict]] = []  # the JSON schema each call asked for (or None)
        self.tools_seen: list[list[Any]] = []  # the tools each call was offered
        self.scores_labels = any("probs" in e for e in entries)

    @classmethod
    def from_file(cls, path: str | Path, **kwargs: Any) -> "ScriptedLLM":
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"scripted LLM file not found: {path}")
        text = path.read_text(encoding="utf-8").strip()
        if text.startswith("["):
            entries = json.loads(text)
        else:
            entries = [json.loads(line) for line in text.splitlines() if line.strip()]
        return cls(entries, name=f"scripted:{path.name}", **kwargs)

    def call(self, messages: Messages, *, purpose: str = "chat", **kwargs: Any) -> Reply:
        self._current_purpose = purpose
        return super().call(messages, purpose=purpose, **kwargs)

    def label_distribution(self, messages: Messages, answers: Sequence[str], *, purpose: str) -> list[float]:
        self._current_purpose = purpose
        return super().label_distribution(messages, answers, purpose=purpose)

    def label_logprobs(self, messages: Messages, answers: Sequence[str]) -> list[float]:
        import math

        self.seen.append(messages)
        entry = self._next(self._current_purpose)
        probs = entry.get("probs") or {}
        labels = [json.loads(a).get("label") for a in answers]
        return [math.log(max(float(probs.get(label, 0.0)), 1e-9)) for label in labels]

    def remaining(self) -> int:
        return sum(len(q) for q in self._queues.values())

    def _next(self, purpose: str) -> dict[str, Any]:
        with self._lock:
            for key in (purpose, ""):
                if self._queues.get(key):
                    return self._queues[key].popleft()
        raise ScriptExhausted(f"scripted LLM has no reply left for a {purpose!r} call")

    def _chat(self, messages: Messages, *, schema: Optional[dict] = None,
              tools: Optional[Sequence[Any]] = None, temperature: float = 0.0,
              max_tokens: int = 512, seed: int = 0) -> Reply:
        self.seen.append(messages)
        self.schemas.append(schema)
        self.tools_seen.append(list(tools or []))
        entry = self._next(self._current_purpose)
        if "error" in entry:
            raise TransientLLMError(entry["error"], f"scripted {entry['error']}",
                                    retry_after=entry.get("retry_after"))
        content = entry.get("content", "")
        if "json" in entry:
            content = json.dumps(entry["json"])
        return Reply(content=content, tool_calls=list(entry.get("tool_calls", [])))
