"""Reading the task: a structured YAML/JSON file (no LLM) or free text parsed by the LLM."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Optional

import yaml
from pydantic import ValidationError

from p2m.prompts import render
from p2m.core.schemas import TaskSpec, TaskSpecError
from p2m.tools.families import FAMILIES
from p2m.llm.retry import LLMOutputError

MAX_PROMPT_CHARS = 20_000
TASK_FILE_KEYS = {"instruction", "examples", "task_type", "labels", "target", "test", "unlabelled"}


def _format_validation(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "task"
        parts.append(f"{where}: {err['msg'].removeprefix('Value error, ')}")
    return "; ".join(parts)


def task_from_dict(data: Any, origin: str = "task") -> TaskSpec:
    """Validate a mapping as a TaskSpec, with errors that name the field."""
    if not isinstance(data, dict):
        raise TaskSpecError(f"{origin}: expected a mapping with 'instruction', got {type(data).__name__}")
    unknown = sorted(map(repr, set(data) - TASK_FILE_KEYS))  # keys may be numbers: name them as written
    if unknown:
        raise TaskSpecError(f"{origin}: unknown keys {', '.join(unknown[:10])}; "
                            f"allowed: {sorted(TASK_FILE_KEYS)}")
    if "instruction" not in data:
        raise TaskSpecError(f"{origin}: 'instruction' is missing")
    try:
        return TaskSpec.model_validate(data)
    except ValidationError as exc:
        raise TaskSpecError(f"{origin}: {_format_validation(exc)}") from None
    except RecursionError:
        raise TaskSpecError(f"{origin}: nested too deeply to be a task") from None


def load_task_file(path: str | Path) -> TaskSpec:
    """Read a structured task file (YAML or JSON): instruction, examples, task_type, labels, target."""
    path = Path(path)
    if not path.is_file():
        raise TaskSpecError(f"task file not found: {path}")
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise TaskSpecError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise TaskSpecError(f"{path}: not valid YAML: {str(exc).splitlines()[0]}") from None
    except RecursionError:  # lists nested thousands deep
        raise TaskSpecError(f"{path}: nested too deeply to be a task") from None
    return task_from_dict(data, origin=str(path))


def read_unlabelled(path: str | Path) -> list[str]:
    """Texts to label from a file: JSONL rows with "input" (or "text"), or one text a line."""
    path = Path(path)
    if not path.is_file():
        raise TaskSpecError(f"unlabelled file not found: {path}")
    try:
        lines = [line for line in path.read_bytes().decode("utf-8").splitlines() if line.strip()]
    except UnicodeDecodeError as exc:
        raise TaskSpecError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    if path.suffix.lower() != ".jsonl":
        return lines
    texts = []
    for n, line in enumerate(lines, start=1):
        try:
            row = json.loads(line)
        except (json.JSONDecodeError, RecursionError):
            raise TaskSpecError(f"{path}:{n}: not a JSON row") from None
        text = row.get("input", row.get("text")) if isinstance(row, dict) else None
        if not isinstance(text, str):
            raise TaskSpecError(f"{path}:{n}: a row needs a text under 'input' or 'text'")
        texts.append(text)
    return texts


def read_prompt(arg: str) -> str:
    """The command line's prompt argument: the text itself, or the contents of a .md/.txt file
    it names. For the CLI's own user only: a chat or UI message is text, never a path
    (`prompt_text`), so nobody reaches the server's files through it."""
    candidate = Path(arg)
    if candidate.suffix.lower() in (".md", ".txt") and len(arg) < 4096:
        if not candidate.is_file():
            raise TaskSpecError(f"prompt file not found: {candidate}")
        try:
            arg = candidate.read_bytes().decode("utf-8")
        except UnicodeDecodeError as exc:
            raise TaskSpecError(f"{candidate}: not UTF-8 text (byte {exc.start})") from None
    return prompt_text(arg)


def prompt_text(text: str) -> str:
    """A task description as given, stripped; an error when it is empty or too long."""
    text = text.strip()
    if not text:
        raise TaskSpecError("the prompt is empty: describe the task and give a few examples")
    if len(text) > MAX_PROMPT_CHARS:
        raise TaskSpecError(
            f"the prompt is {len(text):,} characters; the limit is {MAX_PROMPT_CHARS:,}: "
            "put long material in a dataset, not the prompt"
        )
    return text


def parse_task(description: str, llm: Optional[Any]) -> TaskSpec:
    """Turn a free-text task description into a TaskSpec with the LLM (structured output). The
    description is text: a path in it is not opened (the CLI reads its file with `read_prompt`)."""
    text = prompt_text(description)
    if llm is None:
        raise TaskSpecError(
            "a free-text prompt needs an LLM to read it; with --llm none give --task-file"
        )

    kinds = [f'"{f.name}" ({f.parse_hint})' for f in FAMILIES.values()]
    families = ", ".join(kinds[:-1]) + f", or {kinds[-1]}"
    messages = [{"role": "user", "content": render("parse_task", description=text, families=families)}]

    try:
        spec = llm.structured(messages, TaskSpec, purpose="parse_task", max_tokens=1024)
    except LLMOutputError as exc:
        raise TaskSpecError(f"the LLM could not read the prompt as a task: {exc}") from None
    except ValidationError as exc:
        raise TaskSpecError(f"the task read from the prompt is invalid: {_format_validation(exc)}") from None
    return spec
