"""Turning a dataset's own columns into input/output pairs: choose, validate, map label ids.

The LLM chooses among the real column names (its reply is constrained to them) after seeing one
sample row; without an LLM, common names (text, sentence, question, label, ...) are matched.
Either way the choice is validated on the rows before anything is loaded.
"""
from __future__ import annotations

import json
from typing import Any, Literal, Optional, Sequence

from pydantic import BaseModel, Field, create_model

from p2m.prompts import render
from p2m.core.schemas import TaskSpec

INPUT_NAMES = ("input", "text", "sentence", "review", "content", "question", "document", "utterance",
               "query", "prompt", "context", "premise", "intent", "source", "headline", "title")
OUTPUT_NAMES = ("output", "label", "labels", "target", "answer", "answers", "summary", "snippet",
                "category", "class", "intent_label", "tags", "sentiment", "code")
MIN_FILLED = 0.9


class ColumnError(ValueError):
    """A column choice that does not fit the rows, with the reason."""


class ColumnMapping(BaseModel):
    """Which columns make the input (joined in order) and which one is the output."""

    input_columns: list[str] = Field(min_length=1, max_length=3)
    output_column: str
    label_names: Optional[list[str]] = Field(
        default=None, description="names of integer label ids, in id order (from the card)")
    reason: str = ""


def columns_of(rows: Sequence[dict[str, Any]]) -> list[str]:
    seen: dict[str, None] = {}
    for row in rows[:50]:
        for key in row:
            seen.setdefault(key, None)
    return list(seen)


def heuristic_mapping(columns: Sequence[str]) -> Optional[ColumnMapping]:
    """The mapping common column names suggest, or None."""
    lower = {c.lower(): c for c in columns}
    inputs = [lower[n] for n in INPUT_NAMES if n in lower]
    outputs = [lower[n] for n in OUTPUT_NAMES if n in lower and lower[n] not in inputs]
    if not inputs or not outputs:
        return None
    if {"context", "question"} <= set(lower):  # reading comprehension: both, context first
        inputs = [lower["context"], lower["question"]]
    return ColumnMapping(input_columns=inputs[:2] if len(inputs) > 1 and "context" in lower else inputs[:1],
                         output_column=outputs[0], reason="matched common column names")


def llm_mapping(llm: Any, task: TaskSpec, columns: Sequence[str], sample: dict[str, Any]) -> ColumnMapping:
    """The LLM's choice, decoded under a schema whose column fields only admit real column names."""
    names = tuple(columns)
    choice = create_model(
        "ColumnChoice",
        input_columns=(list[Literal[names]], Field(min_length=1, max_length=2)),  # type: ignore[valid-type]
        output_column=(Literal[names], ...),  # type: ignore[valid-type]
        reason=(str, Field(default="", max_length=200)),
    )
    shown = {k: (str(v)[:200]) for k, v in sample.items()}
    prompt = render("map_columns", instruction=task.instruction, task_type=task.task_type,
                    columns=", ".join(columns), sample=json.dumps(shown, ensure_ascii=False))
    reply = llm.structured([{"role": "user", "content": prompt}], choice, purpose="map_columns",
                           max_tokens=160)
    return ColumnMapping(input_columns=list(dict.fromkeys(reply.input_columns)),
                         output_column=reply.output_column, reason=reply.reason)


def _text(value: Any) -> str:
    if isinstance(value, dict) and "text" in value:  # SQuAD-style {"text": [...], ...}
        value = value["text"]
    if isinstance(value, list):
        return str(value[0]).strip() if value else ""
    return "" if value is None else str(value).strip()


def apply_mapping(row: dict[str, Any], mapping: ColumnMapping) -> tuple[str, str]:
    """(input, output) for one row; several input columns are joined as 'Column: value' lines."""
    if len(mapping.input_columns) == 1:
        text = _text(row.get(mapping.input_columns[0]))
    else:
        text = "\n".join(f"{c.capitalize()}: {_text(row.get(c))}" for c in mapping.input_columns)
    raw = row.get(mapping.output_column)
    if mapping.label_names and isinstance(raw, int) and not isinstance(raw, bool):
        if not 0 <= raw < len(mapping.label_names):
            return text, ""
        return text, mapping.label_names[raw]
    return text, _text(raw)


def validate_mapping(mapping: ColumnMapping, rows: Sequence[dict[str, Any]], name: str) -> None:
    """ColumnError unless the columns exist, inputs and outputs are filled, and ids have names."""
    columns = set(columns_of(rows))
    missing = [c for c in [*mapping.input_columns, mapping.output_column] if c not in columns]
    if missing:
        raise ColumnError(f"{name}: columns {missing} do not exist; columns are {sorted(columns)}")
    if mapping.output_column in mapping.input_columns:
        raise ColumnError(f"{name}: {mapping.output_column!r} cannot be both input and output")
    sample = rows[:200]
    pairs = [apply_mapping(r, mapping) for r in sample]
    filled = sum(bool(i) and bool(o) for i, o in pairs) / max(1, len(pairs))
    if filled < MIN_FILLED:
        raise ColumnError(f"{name}: only {filled:.0%} of rows have both a non-empty input "
                          f"({mapping.input_columns}) and output ({mapping.output_column!r})")
    ids = [r.get(mapping.output_column) for r in sample]
    if all(isinstance(v, int) and not isinstance(v, bool) for v in ids) and not mapping.label_names:
        raise ColumnError(f"{name}: {mapping.output_column!r} holds label ids {sorted(set(ids))[:6]} "
                          "and the card names no labels for them")


def choose_mapping(rows: Sequence[dict[str, Any]], task: TaskSpec, name: str, llm: Any = None,
                   label_names: Optional[list[str]] = None) -> ColumnMapping:
    """A validated mapping: the LLM's choice when there is an LLM, else common names."""
    columns = columns_of(rows)
    if {"input", "output"} <= set(columns):
        mapping = ColumnMapping(input_columns=["input"], output_column="output",
                                reason="the dataset already has input and output")
    elif llm is not None:
        try:
            mapping = llm_mapping(llm, task, columns, rows[0])
        except Exception as exc:  # an unusable reply: fall back to names, never crash the load
            mapping = heuristic_mapping(columns) or _no_mapping(name, columns, exc)
    else:
        mapping = heuristic_mapping(columns) or _no_mapping(name, columns)
    mapping = mapping.model_copy(update={"label_names": label_names or mapping.label_names})
    validate_mapping(mapping, rows, name)
    return mapping


def _no_mapping(name: str, columns: Sequence[str], exc: Optional[Exception] = None) -> ColumnMapping:
    why = f" (the LLM's choice failed: {exc})" if exc else ""
    raise ColumnError(f"{name}: cannot tell input and output apart among columns {list(columns)}{why}")
