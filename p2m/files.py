"""Durable writes shared by every file p2m keeps: atomic JSON, appends that survive a kill,
and redaction of secrets before anything reaches disk."""
from __future__ import annotations

import io
import json
import os
import re
from pathlib import Path
from typing import Any

_KEY_PATTERN = re.compile(r"\b(sk-[A-Za-z0-9_\-]{8,}|hf_[A-Za-z0-9]{8,})")
_URL_CREDENTIALS = re.compile(r"(\b[a-zA-Z][a-zA-Z0-9+.\-]*://)[^/@\s:]+:[^/@\s]+@")
_QUERY_SECRET = re.compile(r"([?&](?:api[_-]?key|key|token|access_token|password)=)[^&#\s]+", re.I)


def secrets() -> list[str]:
    """Values of secret-looking environment variables (API keys, tokens)."""
    return [value for name, value in os.environ.items()
            if value and len(value) >= 8 and re.search(r"(KEY|TOKEN|SECRET|PASSWORD)", name)]


def redact(value: Any) -> Any:
    """`value` with API keys, tokens and credentials in URLs replaced by '[redacted]', recursively."""
    if isinstance(value, str):
        for secret in secrets():
            value = value.replace(secret, "[redacted]")
        value = _URL_CREDENTIALS.sub(r"\1[redacted]@", value)
        value = _QUERY_SECRET.sub(r"\1[redacted]", value)
        return _KEY_PATTERN.sub("[redacted]", value)
    if isinstance(value, dict):
        return {k: redact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    if type(value) is tuple:  # kept a tuple: checkpoints round-trip their types
        return tuple(redact(v) for v in value)
    return value


class RedactingStream(io.TextIOBase):
    """A text stream (stderr) that redacts each write: tracebacks and logs name no secrets."""

    def __init__(self, inner: Any):
        self.inner = inner

    def write(self, text: str) -> int:
        self.inner.write(redact(text))
        return len(text)

    def flush(self) -> None:
        self.inner.flush()

    def isatty(self) -> bool:
        return self.inner.isatty()

    def fileno(self) -> int:
        return self.inner.fileno()


def fsync_dir(path: Path) -> None:
    """Make a rename in `path` durable (no-op where directories cannot be opened)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_json_atomic(path: Path, value: Any) -> Path:
    """Write redacted JSON to a temporary file, fsync it, rename it into place: a kill leaves
    either the old file or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(json.dumps(redact(value), indent=2, ensure_ascii=False, default=str))
            f.flush()
            os.fsync(f.fileno())
        tmp.replace(path)
        fsync_dir(path.parent)
    except OSError:  # e.g. disk full: the old file stays whole, no temporary is left behind
        tmp.unlink(missing_ok=True)
        raise
    return path


def append_durably(path: Path, block: bytes) -> None:
    """Append whole lines and fsync. A torn last line (a kill mid-write) is closed with a newline
    first, so the new lines are never glued onto it; a failed write is cut back to where it began."""
    with open(path, "ab", buffering=0) as f:
        size = f.tell()
        if size:
            with open(path, "rb") as r:
                r.seek(size - 1)
                if r.read(1) != b"\n":
                    block = b"\n" + block
        try:
            view = memoryview(block)
            while view:  # an unbuffered write may write less than asked
                written = f.write(view)
                if not written:
                    raise OSError("append wrote nothing")
                view = view[written:]
            os.fsync(f.fileno())
        except OSError:
            f.truncate(size)
            raise
