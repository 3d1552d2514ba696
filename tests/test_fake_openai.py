"""The fake OpenAI server: schema-valid replies, and each injected fault seen as its kind."""
from __future__ import annotations

import pytest
from pydantic import BaseModel

from p2m.llm.openai_llm import OpenAILLM
from p2m.llm.retry import ContextLengthError, LLMOutputError
from bench.fake_openai import FakeOpenAI, instance


class Row(BaseModel):
    input: str
    label: str


def llm_for(server: FakeOpenAI, **kw) -> OpenAILLM:
    return OpenAILLM("fake", base_url=server.base_url, api_key="sk-test", timeout=1.0,
                     retry_max_wait=0.05, **kw)


def test_replies_match_the_schema_and_are_unique():
    with FakeOpenAI(latency=0.0) as server:
        llm = llm_for(server)
        rows = [llm.structured([{"role": "user", "content": "x"}], Row, purpose="t", sample=i)
                for i in range(3)]
    assert len({r.input for r in rows}) == 3


def test_instance_follows_enums_refs_and_lengths():
    schema = {"$defs": {"L": {"enum": ["a", "b"]}},
              "properties": {"l": {"$ref": "#/$defs/L"}, "s": {"type": "string", "maxLength": 5}}}
    import random
    value = instance(schema, schema["$defs"], random.Random(0), 1)
    assert value["l"] in ("a", "b") and len(value["s"]) <= 5


@pytest.mark.parametrize("fault, kind", [
    ("rate_limit", "rate_limit"), ("rate_limit_retry_after", "rate_limit"),
    ("server_error", "server_error"), ("timeout", "timeout"), ("truncated", None),
])
def test_transient_faults_are_retried_and_counted(fault, kind):
    with FakeOpenAI(latency=0.0, faults={fault: 1.0}, timeout_sleep=1.5) as server:
        llm = llm_for(server, retry_attempts=2)
        with pytest.raises(Exception):
            llm.structured([{"role": "user", "content": "x"}], Row, purpose="t")
        assert server.injected[fault] == 2  # the first try and one retry
    if kind:
        assert llm.usage.faults[kind] >= 2


def test_invalid_json_and_context_length_are_not_retried():
    with FakeOpenAI(latency=0.0, faults={"invalid_json": 1.0}) as server:
        llm = llm_for(server)
        with pytest.raises(LLMOutputError):
            llm.structured([{"role": "user", "content": "x"}], Row, purpose="t")
        assert server.requests == 1
    with FakeOpenAI(latency=0.0, faults={"context_length": 1.0}) as server:
        llm = llm_for(server)
        with pytest.raises(ContextLengthError):
            llm.structured([{"role": "user", "content": "x"}], Row, purpose="t")
        assert server.requests == 1 and llm.usage.faults["context_length"] == 1


def test_unknown_fault_kind_is_refused():
    with pytest.raises(ValueError, match="unknown fault"):
        FakeOpenAI(faults={"gremlins": 0.5})
