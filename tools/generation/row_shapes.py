"""The shape a generated row takes in each free-text family: the structure the family needs,
asked of the LLM as a JSON schema, and turned into an input/output pair.

- extractive QA: a context, a question about it, and the answer copied from the context
  (input "Context: ...\\nQuestion: ...", as SQuAD-style rows and `tools/families/extractive_qa/model.py` read it);
- NER: a sentence and its typed entity mentions, each a span of the sentence (output
  "type: text; type: text", or "none");
- text2text: an input and its output; when the demonstrations' outputs are Python, the prompt
  says the input is a request in words and the output only code (`row_rule`).
"""
from __future__ import annotations

from functools import lru_cache
from typing import Literal, Optional

from pydantic import BaseModel, Field, create_model

from p2m.core.schemas import TaskSpec
from p2m.prompts import render
from p2m.tools.generation.verify import entity_types, writes_python


class GeneratedPair(BaseModel):
    """A new input with its expected output."""

    input: str = Field(description="the new input text", max_length=1000)
    output: str = Field(description="the expected output for that input", max_length=1000)


class GeneratedQA(BaseModel):
    """A new passage, a question it answers, and the answer copied word for word from it."""

    context: str = Field(description="a new passage of two to five sentences", max_length=1500)
    question: str = Field(description="a question the passage answers", max_length=300)
    answer: str = Field(description="the shortest span of the passage that answers the question, copied exactly",
                        max_length=200)


class Mention(BaseModel):
    type: str = Field(description="the entity type", max_length=40)
    text: str = Field(description="the entity's words, copied exactly from the sentence", max_length=120)


class GeneratedSentence(BaseModel):
    """A new sentence and every named entity in it."""

    sentence: str = Field(description="a new sentence", max_length=600)
    entities: list[Mention] = Field(default_factory=list, max_length=12,
                                    description="every named entity of the sentence (empty when none)")


def row_schema(task: TaskSpec) -> type[BaseModel]:
    """What the LLM is asked to write for one row of `task` (free-text families). For NER with
    known entity types, a mention's type is one of them (an enum a grammar enforces): on
    WNUT-17 the generator wrote "company" for "corporation" and lost 11 rows of 80."""
    types = entity_types(task) if task.task_type == "ner" else set()
    if types:
        return typed_sentence(tuple(sorted(types)))
    return {"extractive_qa": GeneratedQA, "ner": GeneratedSentence}.get(task.task_type, GeneratedPair)


@lru_cache(maxsize=32)
def typed_sentence(types: tuple[str, ...]) -> type[BaseModel]:
    """GeneratedSentence whose mentions take one of `types`."""
    kind = Literal[types]  # type: ignore[valid-type]
    mention = create_model("Mention", __base__=Mention,
                           type=(kind, Field(description="the entity type")))
    return create_model("GeneratedSentence", __base__=GeneratedSentence,  # the same field, typed mentions
                        entities=(list[mention], GeneratedSentence.model_fields["entities"]))  # type: ignore[valid-type]


def to_pair(reply: BaseModel) -> tuple[str, str]:
    """(input, output) of a generated row in the family's own format."""
    if isinstance(reply, GeneratedQA):
        return f"Context: {reply.context.strip()}\nQuestion: {reply.question.strip()}", reply.answer.strip()
    if isinstance(reply, GeneratedSentence):
        mentions = [f"{m.type.strip().lower()}: {' '.join(m.text.split())}" for m in reply.entities
                    if m.type.strip() and m.text.strip()]
        return reply.sentence.strip(), "; ".join(mentions) or "none"
    return getattr(reply, "input", "").strip(), getattr(reply, "output", "").strip()


def row_rule(task: TaskSpec) -> Optional[str]:
    """What the generation prompt says a row must be beyond its demonstrations: for NER the
    entity types to use; for a task whose demonstrations write Python, a request in words and
    only code (`prompts/code_rows.md`); None otherwise. Shown demonstrations alone, the 1.5B
    wrote CoNaLa rows whose input was a sentence and whose output the same sentence, or an
    explanation, or several statements run together on one line: 43 of 80 did not parse."""
    if writes_python(task):
        return render("code_rows").strip()
    if task.task_type != "ner":
        return None
    types = sorted(entity_types(task))
    return f"Entity types: {', '.join(types)}." if types else None
