"""The LLM layer: one interface over every backend, with retries, caching and accounting.

Backends implement `_chat`; everything else (retries, the reply cache, token and fault
accounting, JSON validation against pydantic models, tool proposals) lives here once.
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from typing import Any, Optional, Sequence, TypeVar

from pydantic import BaseModel, ValidationError

from p2m.llm.accounting import Usage, estimate_tokens
from p2m.llm.cache import ResponseCache, cache_key
from p2m.llm.retry import ContextLengthError, LLMOutputError, classify_error, make_retrying

T = TypeVar("T", bound=BaseModel)
Messages = list[dict[str, str]]


class LLMBudgetExceeded(RuntimeError):
    """The run's cap on LLM calls is reached."""


@dataclass
class Reply:
    """What a backend returns for one call."""

    content: str = ""
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    prompt_tokens: int = 0
    completion_tokens: int = 0


def tool_schema(tool: Any) -> dict[str, Any]:
    """The JSON schema of a LangChain tool's arguments."""
    schema = tool.args_schema
    if isinstance(schema, dict):
        return schema
    return schema.model_json_schema() if schema is not None else {"type": "object"}


def extract_json(text: str) -> Any:
    """Parse JSON from a reply, tolerating code fences and prose around one object."""
    text = text.strip()
    fenced = re.search(r"```(?:json)?\s*(.*?)```", text, re.S)
    if fenced:
        text = fenced.group(1).strip()
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        start = text.find("{")
        end = text.rfind("}")
        if start != -1 and end > start:
            return json.loads(text[start : end + 1])
        raise


class LLM:
    """Base class; subclasses implement `_chat` and set `model`."""

    model: str = "unknown"
    backend: str = "base"
    native_tools: bool = False
    scores_replies: bool = False  # implements continuation_logprob (needs every position's logits)
    scores_labels: bool = False  # implements label_logprobs (every answer scored after one prompt)

    def __init__(self, usage: Optional[Usage] = None, cache: Optional[ResponseCache] = None,
                 max_calls: Optional[int] = None, retry_attempts: int = 6,
                 retry_max_wait: float = 30.0):
        self.usage = usage or Usage()
        self.cache = cache
        self.max_calls = max_calls
        self._retrying_args = dict(attempts=retry_attempts, max_wait=retry_max_wait)

    # -- to implement -------------------------------------------------------------------------
    def _chat(self, messages: Messages, *, schema: Optional[dict] = None,
              tools: Optional[Sequence[Any]] = None, temperature: float = 0.0,
              max_tokens: int = 512, seed: int = 0) -> Reply:
        raise NotImplementedError

    # -- the one door every call goes through -------------------------------------------------
    def call(self, messages: Messages, *, purpose: str = "chat", schema: Optional[dict] = None,
             tools: Optional[Sequence[Any]] = None, temperature: float = 0.0,
             max_tokens: int = 512, sample: int = 0) -> Reply:
        """One LLM call with cache, call budget, retries and accounting."""
        key = cache_key(model=self.model, messages=messages, schema=schema,
                        tools=[t.name for t in tools or []], temperature=temperature,
                        max_tokens=max_tokens, sample=sample)
        if self.cache is not None:
            hit = self.cache.lookup(key)
            if hit is not None:
                reply = Reply(**hit.value)
                if self.usage.unbilled(hit, self.cache.session):
                    # Paid for by a killed process after the last checkpoint: bill it again, so
                    # the budget and the report match an uninterrupted run.
                    self.usage.record(self.model, purpose, reply.prompt_tokens, reply.completion_tokens)
                    self.cache.adopt(key)
                else:
                    self.usage.cache_hits += 1
                return reply
        if self.max_calls is not None and self.usage.calls >= self.max_calls:
            raise LLMBudgetExceeded(f"LLM call budget of {self.max_calls} calls is spent")

        def on_retry(exc: BaseException) -> None:
            self.usage.record_fault(classify_error(exc) or type(exc).__name__)
            self.usage.record_retry()

        retrying = make_retrying(on_retry=on_retry, **self._retrying_args)
        try:
            reply = retrying(self._chat, messages, schema=schema, tools=tools,
                             temperature=temperature, max_tokens=max_tokens, seed=sample)
        except Exception as exc:  # count the final failure too, then let the caller decide
            kind = classify_error(exc)
            if kind is not None:
                self.usage.record_fault(kind)
            elif _is_context_length(exc):
                self.usage.record_fault("context_length")
                raise ContextLengthError(str(exc)) from exc
            raise
        if not reply.prompt_tokens:
            reply.prompt_tokens = estimate_tokens(" ".join(m["content"] for m in messages))
        if not reply.completion_tokens:
            reply.completion_tokens = estimate_tokens(reply.content)
        self.usage.record(self.model, purpose, reply.prompt_tokens, reply.completion_tokens)
        if self.cache is not None:
            self.cache.put(key, reply.__dict__, seq=self.usage.calls)
        return reply

    # -- what the backend learned about its server (kept across a resume) ---------------------
    def learned(self) -> dict[str, Any]:
        """Settings this backend adapted during the run (e.g. a refused response format)."""
        return {}

    def relearn(self, learned: Optional[dict[str, Any]]) -> None:
        """Take back what `learned()` returned before a kill, so a resumed run does not pay
        again for discovering it."""

    # -- typed helpers ------------------------------------------------------------------------
    def structured(self, messages: Messages, schema_model: type[T], *, purpose: str,
                   temperature: float = 0.0, max_tokens: int = 512, sample: int = 0) -> T:
        """A reply validated as `schema_model`; LLMOutputError when it is not one."""
        schema = schema_model.model_json_schema()
        reply = self.call(messages, purpose=purpose, schema=schema, temperature=temperature,
                          max_tokens=max_tokens, sample=sample)
        try:
            return schema_model.model_validate(extract_json(reply.content))
        except (json.JSONDecodeError, ValidationError, TypeError) as exc:
            self.usage.record_fault("invalid_output")
            raise LLMOutputError(
                f"{purpose}: reply is not a valid {schema_model.__name__}: {str(exc)[:200]}"
            ) from exc

    def label_distribution(self, messages: Messages, answers: Sequence[str], *, purpose: str) -> list[float]:
        """The probability of each candidate answer to `messages`, normalised over the answers
        (a label set's distribution): one scored call through the same door as the others
        (reply cache, call budget, accounting)."""
        key = cache_key(model=self.model, messages=messages, answers=list(answers), kind="label_logprobs")
        if self.cache is not None:
            hit = self.cache.lookup(key)
            if hit is not None:
                if self.usage.unbilled(hit, self.cache.session):
                    self.usage.record(self.model, purpose, int(hit.value.get("tokens", 0)), 0)
                    self.cache.adopt(key)
                else:
                    self.usage.cache_hits += 1
                return list(hit.value["probs"])
        if self.max_calls is not None and self.usage.calls >= self.max_calls:
            raise LLMBudgetExceeded(f"LLM call budget of {self.max_calls} calls is spent")
        logprobs = self.label_logprobs(messages, answers)
        top = max(logprobs)
        weights = [math.exp(lp - top) for lp in logprobs]
        probs = [round(w / sum(weights), 6) for w in weights]
        tokens = estimate_tokens(" ".join(m["content"] for m in messages))
        self.usage.record(self.model, purpose, tokens, 0)
        if self.cache is not None:
            self.cache.put(key, {"probs": probs, "tokens": tokens}, seq=self.usage.calls)
        return probs

    def label_logprobs(self, messages: Messages, answers: Sequence[str]) -> list[float]:
        """Log-probability of each candidate answer; backends that can score (`scores_labels`)
        implement it."""
        raise NotImplementedError(f"the {self.backend} backend cannot score answers")

    def continuation_logprob(self, messages: Messages, reply: str) -> float:
        """Mean log-probability per token of `reply` as the answer to `messages`; backends that
        keep every position's logits (the embedded model) implement it."""
        raise NotImplementedError(f"the {self.backend} backend cannot score a reply's likelihood")

    def text(self, messages: Messages, *, purpose: str, temperature: float = 0.0,
             max_tokens: int = 256) -> str:
        return self.call(messages, purpose=purpose, temperature=temperature,
                         max_tokens=max_tokens).content

    def propose_tool(self, messages: Messages, tools: Sequence[Any]) -> dict[str, Any]:
        """The next tool call the LLM proposes: {"tool", "args", "reason"}.

        Backends with native tool calling get the tools bound; the others decode a decision
        object whose `tool` is constrained to the tool names.
        """
        if self.native_tools:
            return self._propose_natively(messages, tools)
        return self._propose_by_schema(messages, tools)

    def _propose_natively(self, messages: Messages, tools: Sequence[Any]) -> dict[str, Any]:
        reply = self.call(messages, purpose="plan", tools=tools)
        if not reply.tool_calls:
            raise LLMOutputError(f"plan: no tool call in reply {reply.content[:120]!r}")
        call = reply.tool_calls[0]
        return {"tool": call.get("name"), "args": call.get("args") or {},
                "reason": reply.content.strip() or call.get("reason", "")}

    def _propose_by_schema(self, messages: Messages, tools: Sequence[Any]) -> dict[str, Any]:
        schema = decision_schema(tools)
        reply = self.call(messages, purpose="plan", schema=schema, max_tokens=256)
        try:
            data = extract_json(reply.content)
            return {"tool": data["tool"], "args": data.get("args") or {},
                    "reason": str(data.get("reason", ""))}
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            self.usage.record_fault("invalid_output")
            raise LLMOutputError(f"plan: reply is not a tool decision: {reply.content[:120]!r}") from exc

    def describe(self) -> dict[str, Any]:
        return {"backend": self.backend, "model": self.model}


def _plain_args_schema(tool: Any) -> dict[str, Any]:
    """A tool's argument schema reduced to what grammar compilers handle (types, enums, required)."""
    full = tool_schema(tool)
    props = {}
    for name, prop in (full.get("properties") or {}).items():
        if "const" in prop:  # a one-value Literal: an enum of one, which grammars do enforce
            prop = {**prop, "enum": [prop["const"]]}
        props[name] = {k: v for k, v in prop.items() if k in ("type", "enum", "items")}
        props[name].setdefault("type", "string")
    return {"type": "object", "properties": props, "required": sorted(props),
            "additionalProperties": False}


def decision_schema(tools: Sequence[Any]) -> dict[str, Any]:
    """The JSON schema of one planner decision: a reason, then one tool with its own arguments."""
    branches = [{"type": "object",
                 "properties": {"reason": {"type": "string", "maxLength": 200},
                                "tool": {"const": t.name},
                                "args": _plain_args_schema(t)},
                 "required": ["reason", "tool", "args"]} for t in tools]
    return {"anyOf": branches}


def _is_context_length(exc: BaseException) -> bool:
    text = str(exc).lower()
    return "context length" in text or "context_length_exceeded" in text or "maximum context" in text


def schema_instruction(schema: dict[str, Any]) -> str:
    """The sentence appended to prompts of backends that cannot enforce a schema themselves."""
    return ("Answer with one JSON object only, no prose, that matches this JSON schema:\n"
            + json.dumps(schema, ensure_ascii=False))
