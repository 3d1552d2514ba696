"""Per-run accounting of LLM calls, tokens, faults and cost."""
from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Optional

# Dollars per million tokens (input, output) for priced models; others cost nothing here.
PRICES_PER_MTOK = {
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4o": (2.50, 10.0),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1": (2.00, 8.00),
}


def estimate_tokens(text: str) -> int:
    """A tokenizer-free estimate (about 4 characters a token) for backends that report none."""
    return max(1, len(text) // 4) if text else 0


@dataclass
class Usage:
    """Counters shared by every LLM call of one run (thread-safe)."""

    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    retries: int = 0
    cache_hits: int = 0
    cost_usd: float = 0.0
    faults: Counter = field(default_factory=Counter)
    by_purpose: Counter = field(default_factory=Counter)
    resumed_at: Optional[int] = None  # the call count of the snapshot a resumed run started from
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def record(self, model: str, purpose: str, prompt_tokens: int, completion_tokens: int) -> None:
        with self._lock:
            self.calls += 1
            self.prompt_tokens += prompt_tokens
            self.completion_tokens += completion_tokens
            self.by_purpose[purpose] += 1
            price = PRICES_PER_MTOK.get(model)
            if price:
                self.cost_usd += (prompt_tokens * price[0] + completion_tokens * price[1]) / 1e6

    def record_fault(self, kind: str) -> None:
        with self._lock:
            self.faults[kind] += 1

    def record_retry(self) -> None:
        with self._lock:
            self.retries += 1

    def unbilled(self, hit: Any, session: str) -> bool:
        """Whether a cached reply is one that a killed process of this run paid for after the
        snapshot this run resumed from (so the snapshot's counters do not include it)."""
        return (self.resumed_at is not None and hit.session not in (None, session)
                and hit.seq is not None and hit.seq > self.resumed_at)

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def to_dict(self) -> dict[str, Any]:
        return {
            "calls": self.calls,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "retries": self.retries,
            "cache_hits": self.cache_hits,
            "cost_usd": round(self.cost_usd, 6),
            "faults": dict(self.faults),
            "by_purpose": dict(self.by_purpose),
        }

    def load(self, d: Optional[dict[str, Any]]) -> None:
        """Continue counting from a saved snapshot (used by resume)."""
        d = d or {}
        self.calls = d.get("calls", 0)
        self.resumed_at = self.calls
        self.prompt_tokens = d.get("prompt_tokens", 0)
        self.completion_tokens = d.get("completion_tokens", 0)
        self.retries = d.get("retries", 0)
        self.cache_hits = d.get("cache_hits", 0)
        self.cost_usd = d.get("cost_usd", 0.0)
        self.faults = Counter(d.get("faults", {}))
        self.by_purpose = Counter(d.get("by_purpose", {}))
