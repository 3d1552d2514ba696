"""Attribute-conditioned generation (AttrPrompt, Yu et al. 2023): the LLM proposes subjects per
label for each generation round (avoiding the subjects of earlier rounds); each call then draws a
subject, a length and a register, so calls differ in what they ask for instead of in temperature
alone. Lengths follow the demonstrations (a question task gets questions, not paragraphs)."""
from __future__ import annotations

import random
import re
from typing import Any, Optional, Sequence

from pydantic import BaseModel, Field

from p2m.prompts import render
from p2m.core.schemas import TaskSpec
from p2m.tools.generation.verify import writes_python

LENGTHS = ("a few words", "one short sentence", "one long sentence", "two or three sentences")
LENGTH_SPREAD = (0.6, 1.6)  # a drawn length is a demonstration's word count times this range
# A written input may be at most this many times the longest demonstration (in characters), within
# these bounds: asked for "about 13 words", the 1.5B wrote 46 on average (docs/data.md), which
# costs decoding time and looks like no real input of the task.
LENGTH_CAP, MIN_CHARS, MAX_CHARS = 2.0, 80, 400
REGISTERS = ("plain", "casual", "formal", "emotional", "matter-of-fact", "detailed")
SUBJECTS_PER_LABEL = 12
SCOPE_ANY = "drawn\nfrom many areas of life"  # the prompt as it was before code tasks had a scope
SCOPE_CODE = ("each a different thing Python code works on or does (a data structure, text, dates, "
              "files, numbers, a library of Python), since every input asks for Python code; "
              "no other programming language or tool")


class Subjects(BaseModel):
    """Subjects inputs of one label could be about."""

    subjects: list[str] = Field(description="short, varied subjects", max_length=24)


def subject_scope(task: TaskSpec) -> str:
    """Where subjects come from: many areas of life, or programming topics when the task's
    outputs are code. Asked for subjects of a code task without its demonstrations, the 1.5B
    listed Art, History, Music, and the rows written about them were prose (6 of 12 did not parse);
    asked for programming topics it listed languages (java, bash, git), and the rows were those."""
    return SCOPE_CODE if writes_python(task) else SCOPE_ANY


def propose_subjects(task: TaskSpec, llm: Any, label: str, n: int = SUBJECTS_PER_LABEL,
                     avoid: Sequence[str] = (), round_no: int = 0, scope: Optional[str] = None) -> list[str]:
    """Up to `n` distinct subjects for inputs of `label`, none of them in `avoid` (the subjects of
    earlier rounds) and none a copy of a demonstration (an empty list when the LLM fails).
    `round_no` numbers the request, so each round is its own call (and its own cache entry).
    `scope` says where they come from (default `subject_scope(task)`; a caller hiding the
    demonstrations passes the scope of the task that has them)."""
    demos = [d.input for d in task.examples if d.output == label] if label else \
        [d.input for d in task.examples]  # label "": a family without labels
    listed = "\n".join(f"- {d}" for d in demos) or "(none)"
    avoid_text = ("Do not repeat any of these subjects, used already: " + "; ".join(avoid) + "."
                  if avoid else "")
    prompt = render("propose_attributes", instruction=task.instruction, label=label or "(any)",
                    demonstrations=listed, n=n, avoid=avoid_text, scope=scope or subject_scope(task))
    try:
        reply = llm.structured([{"role": "user", "content": prompt}], Subjects, purpose="attributes",
                               temperature=0.7, max_tokens=384, sample=round_no)
    except Exception:  # generation goes on without subjects: lengths and registers still vary
        return []
    taken = {a.lower() for a in avoid} | {" ".join(d.split()).lower() for d in demos}
    seen: dict[str, str] = {}
    for s in reply.subjects:
        s = " ".join(str(s).split()).strip(" .")[:80]
        if s and s.lower() not in seen and s.lower() not in taken and len(s.split()) <= 8:
            seen[s.lower()] = s
    return list(seen.values())[:n]


def max_chars(task: TaskSpec) -> int:
    """The most characters a written input may have: LENGTH_CAP times the longest demonstration."""
    longest = max((len(d.input.strip()) for d in task.examples), default=0)
    return int(min(MAX_CHARS, max(MIN_CHARS, LENGTH_CAP * longest))) if longest else MAX_CHARS


def trim_to_sentence(text: str, limit: int) -> str:
    """`text` when shorter than `limit`; else its longest prefix within `limit` that ends a
    sentence, or failing that a clause (before a comma, semicolon, colon or dash: phrase-like
    inputs such as SST-2's have no sentence ends); "" when what is left is under three words."""
    if len(text) < limit:
        return text
    head = text[:limit]
    ends = [m.end() for m in _SENTENCE_END.finditer(head)] or [m.start() for m in _CLAUSE_END.finditer(head)]
    kept = text[:ends[-1]].strip() if ends else ""
    return kept if len(kept.split()) >= 3 else ""


_SENTENCE_END = re.compile(r"""[.!?]+["')\]]*(?=\s|$)""")
_CLAUSE_END = re.compile(r"\s*(?:[,;:]|\s[-\u2013\u2014])\s")


def demo_lengths(task: TaskSpec) -> list[int]:
    """Word counts of the task's demonstrations (what drawn lengths are scaled from)."""
    return [len(d.input.split()) for d in task.examples if d.input.strip()]


def draw(subjects: list[str], sample: int, lengths: Sequence[int] = ()) -> dict[str, str]:
    """The attributes of the call numbered `sample` (the same number always draws the same).
    With `lengths` (the demonstrations' word counts), the length is "about N words" around one
    of them; without, one of LENGTHS."""
    rng = random.Random(sample * 7919 + 17)
    if lengths:
        words = max(2, round(rng.choice(list(lengths)) * rng.uniform(*LENGTH_SPREAD)))
        length = f"about {words} words"
    else:
        length = rng.choice(LENGTHS)
    out = {"length": length, "register": rng.choice(REGISTERS)}
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
