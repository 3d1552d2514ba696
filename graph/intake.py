"""The conversation that pins the task down, as a LangGraph graph that pauses on `interrupt`.

Each question is an interrupt; the answer resumes the graph. The state lives in the run's
SQLite checkpointer (thread "chat"), so `p2m chat --resume RUN` continues days later. With an
LLM the user's free text is read into a task; without one the answers are taken as they are.
At the confirmation step the user may correct any field ("labels: a, b", "target: 0.9",
"example: text => label", "instruction: ...") or say "run".
"""
from __future__ import annotations

import re
from typing import Any, Optional, TypedDict

from langgraph.graph import END, START, StateGraph
from langgraph.types import interrupt
from pydantic import ValidationError

from p2m.core.schemas import DEFAULT_METRIC, TASK_TYPE_ALIASES, TaskSpec, TaskSpecError
from p2m.tools.data.task import parse_task

CHAT_THREAD = {"configurable": {"thread_id": "chat"}}
RUN_WORDS = {"run", "start", "go", "train", "yes"}
FIELDS = {"instruction": "instruction", "type": "task_type", "task_type": "task_type", "label": "labels",
          "labels": "labels", "target": "target", "example": "examples", "examples": "examples",
          "test": "test", "unlabelled": "unlabelled", "unlabeled": "unlabelled"}
_FIELD = re.compile(r"^\s*(instruction|type|task_type|labels?|target|examples?|test|unlabell?ed)\s*:\s*(.*)$",
                    re.I | re.S)


class IntakeState(TypedDict, total=False):
    draft: dict[str, Any]          # the task so far (TaskSpec fields)
    transcript: list[dict[str, str]]
    revisions: list[dict[str, Any]]  # each valid version of the task, with the message that made it
    confirmed: bool


def validation_problem(draft: dict[str, Any]) -> Optional[str]:
    """Why the draft is not a valid task (e.g. examples outside the labels), or None."""
    try:
        TaskSpec.model_validate(draft)
    except ValidationError as exc:
        return "; ".join(e["msg"].removeprefix("Value error, ") for e in exc.errors())
    except TaskSpecError as exc:
        return str(exc)
    return None


def apply_answer(draft: dict[str, Any], field: str, value: str, replace: bool = False) -> dict[str, Any]:
    """The draft with one field set from the user's words (examples add up unless `replace`)."""
    draft = dict(draft)
    field = FIELDS[field.lower()]
    value = value.strip()
    if field == "instruction":
        draft["instruction"] = value
    elif field == "task_type":
        draft["task_type"] = value
    elif field == "labels":
        draft["labels"] = [v.strip() for v in re.split(r"[,\n]", value) if v.strip()]
    elif field == "target":
        number = re.search(r"\d*\.?\d+", value)
        if number:
            kind = draft.get("task_type", "classification")
            metric = DEFAULT_METRIC.get(TASK_TYPE_ALIASES.get(kind, kind), "accuracy")
            draft["target"] = {"metric": metric, "value": float(number.group())}
    elif field == "unlabelled":  # the user's own inputs, one a line: the teacher labels them
        kept = [] if replace else list(draft.get(field, []))
        draft[field] = kept + [line.strip() for line in value.splitlines() if line.strip()]
    elif field in ("examples", "test"):  # test: gold rows to score on, never trained on
        pairs = [line.split("=>", 1) for line in value.splitlines() if "=>" in line]
        kept = [] if replace else list(draft.get(field, []))
        draft[field] = kept + [{"input": a.strip(), "output": b.strip()} for a, b in pairs]
    return draft


def missing(draft: dict[str, Any]) -> Optional[tuple[str, str]]:
    """The next thing to ask: (field, question), or None when the task is complete."""
    if not draft.get("instruction"):
        return "instruction", "What should the model do? Describe the task in a sentence or two."
    if draft.get("task_type", "classification") == "classification" and len(draft.get("labels") or []) < 2:
        return "labels", "Which labels can the output take? (comma-separated)"
    if len(draft.get("examples") or []) < 2:
        return "examples", "Give two or more examples, one per line, as: input => output"
    if not draft.get("target"):
        return "target", "What score is good enough? (e.g. 0.9 for 90% accuracy)"
    return None


def build_intake(llm: Any = None, checkpointer: Any = None):
    """The compiled intake graph; `llm` reads free-text answers into the draft when given."""

    def ask(state: IntakeState) -> dict[str, Any]:
        draft = dict(state.get("draft") or {})
        transcript = list(state.get("transcript") or [])
        revisions = list(state.get("revisions") or [])
        need = missing(draft)
        problem = None if need else validation_problem(draft)
        if need:
            field, question = need
        elif problem:
            field, question = "confirm", (f"Here is the task:\n{summary(draft)}\nIt does not hold "
                                          f"together yet: {problem}\nCorrect a field (e.g. 'examples: "
                                          "text => label', one per line).")
        else:
            field, question = "confirm", ("Here is the task:\n" + summary(draft) +
                                          "\nCorrect a field (e.g. 'labels: a, b, c') or say 'run'.")
        answer = str(interrupt({"field": field, "question": question}))
        transcript += [{"role": "agent", "content": question}, {"role": "user", "content": answer}]
        if field == "confirm" and not problem and answer.strip().lower() in RUN_WORDS:
            return {"draft": draft, "transcript": transcript, "revisions": revisions, "confirmed": True}
        correction, before = _FIELD.match(answer), draft
        if correction:
            draft = apply_answer(draft, correction.group(1), correction.group(2), replace=True)
        elif field == "instruction" and llm is not None:
            draft = read_with_llm(llm, answer, draft)
        elif field != "confirm":
            draft = apply_answer(draft, field, answer)
        if llm is not None and not correction and draft == before and field != "instruction":
            # Words that fill nothing asked ("actually use three labels"): the LLM re-reads all
            # the user said, as a correction in their own words.
            draft = read_with_llm(llm, "\n".join(free_text(transcript)), draft)
        if missing(draft) is None and validation_problem(draft) is None:
            task = TaskSpec.model_validate(draft).model_dump()
            if not revisions or revisions[-1]["task"] != task:  # a version of the task, once
                revisions.append({"message": answer, "task": task})
        return {"draft": draft, "transcript": transcript, "revisions": revisions, "confirmed": False}

    builder = StateGraph(IntakeState)
    builder.add_node("ask", ask)
    builder.add_edge(START, "ask")
    builder.add_conditional_edges("ask", lambda s: END if s.get("confirmed") else "ask")
    return builder.compile(checkpointer=checkpointer)


def free_text(transcript: list[dict[str, str]]) -> list[str]:
    """The user's messages in their own words (not field corrections, numbers or 'run')."""
    return [t["content"] for t in transcript if t["role"] == "user" and not _FIELD.match(t["content"])
            and t["content"].strip().lower() not in RUN_WORDS
            and not re.fullmatch(r"\s*\d*\.?\d+\s*", t["content"])]


def read_with_llm(llm: Any, text: str, draft: dict[str, Any]) -> dict[str, Any]:
    """The draft filled from a free-text description by the LLM; when it cannot read one, the
    text becomes the instruction of an empty draft and a filled draft stays as it is."""
    try:
        task = parse_task(text, llm)
    except Exception:  # the LLM is a help here: unreadable or unavailable, the questions go on
        return draft if draft.get("instruction") else {**draft, "instruction": text}
    filled = task.model_dump(exclude_none=True)
    if not task.examples:
        filled.pop("examples", None)
    filled.pop("target", None)  # the user is asked for the target explicitly
    return {**draft, **filled}


def summary(draft: dict[str, Any]) -> str:
    lines = [f"  instruction: {draft.get('instruction')}",
             f"  type: {draft.get('task_type', 'classification')}",
             f"  labels: {', '.join(draft.get('labels') or []) or '-'}",
             f"  target: {(draft.get('target') or {}).get('value', '-')}",
             f"  examples: {len(draft.get('examples') or [])}"]
    if draft.get("unlabelled"):
        lines.append(f"  unlabelled texts: {len(draft['unlabelled'])} (the teacher labels them)")
    for ex in (draft.get("examples") or [])[:5]:
        lines.append(f"    {ex['input']} => {ex['output']}")
    return "\n".join(lines)
