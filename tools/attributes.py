"""Attribute-conditioned generation (AttrPrompt, Yu et al. 2023): the LLM proposes subjects per
label once per run; each generation call then draws a subject, a length and a register, so
calls differ in what they ask for instead of in temperature alone."""
from __future__ import annotations

import random
from typing import Any, Optional

from pydantic import BaseModel, Field

from ..prompts import render
from ..schemas import TaskSpec

LENGTHS = ("a few words", "one short sentence", "one long sentence", "two or three sentences")
REGISTERS = ("plain", "casual", "formal", "emotional", "matter-of-fact", "detailed")
SUBJECTS_PER_LABEL = 12


class Subjects(BaseModel):
    """Subjects inputs of one label could be about."""

    subjects: list[str] = Field(description="short, varied subjects", max_length=24)


def propose_subjects(task: TaskSpec, llm: Any, label: str, n: int = SUBJECTS_PER_LABEL) -> list[str]:
    """Up to `n` distinct subjects for inputs of `label` (an empty list when the LLM fails)."""
    demos = "\n".join(f"- {d.input}" for d in task.examples if d.output == label) or "(none)"
    prompt = render("propose_attributes", instruction=task.instruction, label=label,
                    demonstrations=demos, n=n)
    try:
        reply = llm.structured([{"role": "user", "content": prompt}], Subjects, purpose="attributes",
                               temperature=0.7, max_tokens=384)
    except Exception:  # generation goes on without subjects: lengths and registers still vary
        return []
    seen: dict[str, str] = {}
    for s in reply.subjects:
        s = " ".join(str(s).split())[:80]
        if s and s.lower() not in seen:
            seen[s.lower()] = s
    return list(seen.values())[:n]


def draw(subjects: list[str], sample: int) -> dict[str, str]:
    """The attributes of the call numbered `sample` (the same number always draws the same)."""
    rng = random.Random(sample * 7919 + 17)
    out = {"length": rng.choice(LENGTHS), "register": rng.choice(REGISTERS)}
    if subjects:
        out["subject"] = rng.choice(subjects)
    return out


def describe(attrs: Optional[dict[str, str]]) -> str:
    """The attributes as a line of the generation prompt."""
    if not attrs:
        return ""
    parts = [f"about {attrs['subject']}"] if attrs.get("subject") else []
    parts += [f"{attrs['length']} long", f"in a {attrs['register']} register"]
    return "This time write it " + ", ".join(parts) + "."


def distinct_2(texts: list[str]) -> float:
    """Distinct bigrams over all bigrams (Li et al. 2016): 1.0 when no bigram repeats."""
    grams = [tuple(t.lower().split()[i:i + 2]) for t in texts for i in range(max(0, len(t.split()) - 1))]
    return round(len(set(grams)) / len(grams), 3) if grams else 0.0
