"""An on-disk cache of LLM replies keyed by model, messages and parameters.

A rerun or a resumed run asks nothing twice: the key covers everything that shapes a reply,
including a sample index so that deliberate resampling still gets fresh answers. Each reply also
records the process that stored it and the run's call count at that moment, so a resumed run can
bill the replies a killed process paid for after its last checkpoint (see `LLM.call`).
"""
from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from p2m.core.files import redact

logger = logging.getLogger(__name__)


def cache_key(**parts: Any) -> str:
    blob = json.dumps(parts, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


@dataclass
class CachedReply:
    value: dict[str, Any]
    session: Optional[str]  # the process (cache object) that stored it
    seq: Optional[int]  # the run's call count right after the call that produced it


class ResponseCache:
    """SQLite key-value store; safe to share between threads of one process."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.session = uuid.uuid4().hex
        self._lock = threading.Lock()
        self.quarantined: Optional[Path] = None
        try:
            self._open()
        except sqlite3.DatabaseError:
            # A cache is only a saving: an unreadable one is set aside (kept for inspection)
            # and a fresh one started; replies are then asked again.
            if getattr(self, "_db", None) is not None:
                self._db.close()
            self.quarantined = self.path.with_name(f"{self.path.name}.corrupt-{int(time.time())}")
            self.path.replace(self.quarantined)
            for suffix in ("-wal", "-shm"):
                Path(f"{self.path}{suffix}").unlink(missing_ok=True)
            logger.warning("LLM reply cache %s was unreadable; moved to %s", self.path, self.quarantined)
            self._open()

    def _open(self) -> None:
        self._db = sqlite3.connect(str(self.path), check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS replies (key TEXT PRIMARY KEY, value TEXT)")
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(replies)")}
        for name, kind in (("session", "TEXT"), ("seq", "INTEGER")):  # caches of older versions
            if name not in columns:
                self._db.execute(f"ALTER TABLE replies ADD COLUMN {name} {kind}")
        self._db.commit()

    def get(self, key: str) -> Optional[dict[str, Any]]:
        hit = self.lookup(key)
        return hit.value if hit else None

    def lookup(self, key: str) -> Optional[CachedReply]:
        with self._lock:
            row = self._db.execute("SELECT value, session, seq FROM replies WHERE key = ?",
                                   (key,)).fetchone()
        return CachedReply(json.loads(row[0]), row[1], row[2]) if row else None

    def put(self, key: str, value: dict[str, Any], seq: Optional[int] = None) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO replies (key, value, session, seq) VALUES (?, ?, ?, ?)",
                (key, json.dumps(redact(value), ensure_ascii=False), self.session, seq),
            )
            self._db.commit()

    def adopt(self, key: str) -> None:
        """Mark a reply as this process's own (a replay is billed once)."""
        with self._lock:
            self._db.execute("UPDATE replies SET session = ? WHERE key = ?", (self.session, key))
            self._db.commit()

    def __len__(self) -> int:
        with self._lock:
            return self._db.execute("SELECT COUNT(*) FROM replies").fetchone()[0]

    def close(self) -> None:
        with self._lock:
            self._db.close()
