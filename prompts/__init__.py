"""Prompt templates kept as files, loaded by name and filled with `$name` placeholders."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from string import Template

_DIR = Path(__file__).parent


@lru_cache(maxsize=None)
def template(name: str) -> Template:
    path = _DIR / f"{name}.md"
    if not path.is_file():
        raise FileNotFoundError(f"no prompt named {name!r} in {_DIR}")
    return Template(path.read_text(encoding="utf-8"))


def render(name: str, **values: object) -> str:
    """The prompt `name` with its placeholders filled; a missing value is an error."""
    return template(name).substitute({k: str(v) for k, v in values.items()})
