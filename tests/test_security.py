"""Static security rules of the code base."""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCES = [p for folder in ("p2m", "core", "agent", "llm", "runfolder", "tools", "graph") for p in (ROOT / folder).rglob("*.py")]


def test_trust_remote_code_is_never_switched_on():
    offenders = [str(p.relative_to(ROOT)) for p in SOURCES
                 if re.search(r"trust_remote_code\s*=\s*True", p.read_text(encoding="utf-8"))]
    assert SOURCES and not offenders


def test_gradio_never_shares_or_binds_publicly_by_default():
    for path in SOURCES:
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"share\s*=\s*True", text), path
        assert "0.0.0.0" not in text, path
