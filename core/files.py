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
# Any userinfo in a URL (user:password, :password, a bare token), up to the "@" before the host.
_URL_USERINFO = re.compile(r"(\b[a-zA-Z][a-zA-Z0-9+.\-]*://)[^/@\s?#]+@")
_CREDENTIAL_NAME = r"[\w.\-]*(?:key|token|secret|passw|pwd|sig|auth|credential|session)[\w.\-]*"
# A query parameter named like a credential: ?api-key=, &subscription-key=, ?access_token=, &sig=
_QUERY_SECRET = re.compile(rf"([?&;]{_CREDENTIAL_NAME}=)[^&#\s\"']+", re.I)
# A header (or a key: value pair) named like a credential, with its scheme kept: Authorization:
# Bearer X, X-API-Key: X, "api-key": "X", Cookie: X
_HEADER_SECRET = re.compile(
    r"\b((?:proxy-)?authorization|x-api-key|api-key|x-auth-token|ocp-apim-subscription-key|cookie|"
    r"set-cookie)([\"']?\s*[:=]\s*[\"']?)(?:(bearer|basic|token|digest)\s+)?([^\s\"',;]+)", re.I)
_BEARER = re.compile(r"\b(bearer|basic)\s+[A-Za-z0-9._~+/=\-]{8,}", re.I)
_SECRET_ENV = re.compile(r"(KEY|TOKEN|SECRET|PASSW|AUTH|CREDENTIAL)", re.I)
_REGISTERED: set[str] = set()


def add_secret(value: str | None) -> None:
    """Register a secret given other than through the environment (a --api-key flag): every
    later redaction replaces it."""
    if value and len(value) >= 4:
        _REGISTERED.add(value)


def secrets() -> list[str]:
    """Values of secret-looking environment variables (API keys, tokens, passwords, the UI's
    user:password and its password alone) and registered secrets, longest first."""
    found = set(_REGISTERED)
    for name, value in os.environ.items():
        if value and len(value) >= 8 and _SECRET_ENV.search(name):
            found.add(value)
            _, sep, tail = value.partition(":")
            if sep and len(tail) >= 4:  # user:password: the password alone too
                found.add(tail)
    return sorted(found, key=len, reverse=True)


def _redact_text(text: str) -> str:
    for secret in secrets():
        text = text.replace(secret, "[redacted]")
    text = _URL_USERINFO.sub(r"\1[redacted]@", text)
    text = _QUERY_SECRET.sub(r"\1[redacted]", text)
    text = _HEADER_SECRET.sub(lambda m: f"{m[1]}{m[2]}{m[3] + ' ' if m[3] else ''}[redacted]", text)
    text = _BEARER.sub(r"\1 [redacted]", text)
    return _KEY_PATTERN.sub("[redacted]", text)


def redact(value: Any) -> Any:
    """`value` with secrets replaced by '[redacted]', recursively: configured secrets, API keys
    and tokens, URL userinfo, query parameters and headers named like credentials. The one
    redaction every writer and printer uses (files, SQLite, stdout/stderr, exception texts)."""
    if isinstance(value, str):
        return _redact_text(value)
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

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self.inner, "encoding", "utf-8")

    def __getattr__(self, name: str) -> Any:  # anything else a caller asks of the real stream
        return getattr(self.inner, name)


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
