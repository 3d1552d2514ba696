"""LLM rerank of retrieved candidates by majority vote over sampled choices (Prompt2Model)."""
from __future__ import annotations

from collections import Counter
from typing import Any, Literal, Sequence

from pydantic import BaseModel, Field, create_model

from ..prompts import render

DESCRIPTION_CHARS = 300


def _choice_model(names: Sequence[str]) -> type[BaseModel]:
    return create_model("DatasetChoice",
                        name=(Literal[tuple(names)], Field(description="the chosen dataset")),  # type: ignore[valid-type]
                        reason=(str, Field(description="why it fits, one sentence", max_length=300)))


def rerank_by_vote(llm: Any, task_text: str, groups: list[list[int]], catalog: Sequence[Any],
                   top_n: int = 8, votes: int = 3) -> tuple[list[list[int]], dict[int, dict[str, Any]]]:
    """Groups reordered: the LLM's most-voted candidates first (ties keep retrieval order).

    Each vote is one sampled, schema-constrained choice among the first `top_n` groups; a reply
    that fails is skipped, so a flaky LLM can only leave the retrieval order as it was.
    Returns the new order and, per chosen entry, {"votes", "reason"}.
    """
    shown = groups[:top_n]
    names = [catalog[g[0]].name for g in shown]
    listing = "\n".join(f"- {n}: {' '.join(catalog[g[0]].description.split())[:DESCRIPTION_CHARS]}"
                        for n, g in zip(names, shown))
    prompt = render("rerank_datasets", task=task_text, candidates=listing)
    model = _choice_model(names)
    tally: Counter[str] = Counter()
    reasons: dict[str, str] = {}
    for sample in range(votes):
        try:
            choice = model.model_validate(llm.structured(
                [{"role": "user", "content": prompt}], model, purpose="rerank",
                temperature=0.7 if votes > 1 else 0.0, max_tokens=160, sample=sample).model_dump())
        except Exception:
            continue
        tally[choice.name] += 1
        reasons.setdefault(choice.name, choice.reason)
    position = {n: i for i, n in enumerate(names)}
    ranked = sorted(range(len(shown)), key=lambda i: (-tally[names[i]], position[names[i]]))
    info = {shown[i][0]: {"votes": tally[names[i]], "reason": reasons[names[i]]}
            for i in ranked if tally[names[i]]}
    return [shown[i] for i in ranked] + groups[top_n:], info


class QueryExpansion(BaseModel):
    """What the LLM adds to a task description before searching (HyDE-style)."""

    task_name: str = Field(description="the task's standard name, e.g. natural language inference",
                           max_length=80)
    dataset_names: list[str] = Field(description="well-known datasets for the task", max_length=6)


def expand_query(llm: Any, task_text: str) -> str:
    """The task text followed by the LLM's task name and dataset names; the text alone on failure."""
    try:
        out = llm.structured([{"role": "user", "content": render("expand_query", task=task_text)}],
                             QueryExpansion, purpose="expand_query", max_tokens=120)
    except Exception:
        return task_text
    names = " ".join(n for n in out.dataset_names if len(n) < 60)
    return f"{task_text} {out.task_name} {names}".strip()
