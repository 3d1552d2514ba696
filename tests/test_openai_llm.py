"""The OpenAI-compatible backend: structured-output modes and tool-calling fallback."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from pydantic import BaseModel, Field

from p2m.llm.openai_llm import OpenAILLM, refuses_response_format, response_format
from p2m.llm.retry import LLMOutputError
from bench.fake_openai import FakeOpenAI


class Label(BaseModel):
    label: str = Field(json_schema_extra={"enum": ["positive", "negative"]})


def llm_for(server: FakeOpenAI, **kw) -> OpenAILLM:
    return OpenAILLM("fake", base_url=server.base_url, api_key="sk-test", timeout=2.0,
                     retry_max_wait=0.05, **kw)


ASK = [{"role": "user", "content": "label: 'a fine film'"}]


def test_structured_calls_send_the_schema_as_json_schema_first():
    with FakeOpenAI(latency=0.0) as server:
        llm = llm_for(server)
        assert llm.structured(ASK, Label, purpose="t").label in ("positive", "negative")
    assert server.formats == {"json_schema": 1}
    assert llm.describe()["structured_output"] == "json_schema"


@pytest.mark.parametrize("status", [500, 400])  # llama-cpp-python's server; OpenAI's older models
def test_a_server_refusing_json_schema_gets_json_mode_with_the_schema_from_then_on(status):
    with FakeOpenAI(latency=0.0, refuse_json_schema=True, refusal_status=status) as server:
        llm = llm_for(server)
        for i in range(3):
            llm.structured(ASK, Label, purpose="t", sample=i)
    # one refusal, then every call in the mode llama-cpp-python's server takes; no retries spent
    assert server.formats == {"json_schema": 1, "json_object+schema": 3}
    assert llm.usage.retries == 0
    assert llm.describe()["structured_output"] == "json_object_schema"


def test_concurrent_calls_each_step_down_once_and_all_succeed():
    with FakeOpenAI(latency=0.05, refuse_json_schema=True) as server:
        llm = llm_for(server)
        with ThreadPoolExecutor(8) as pool:
            labels = list(pool.map(lambda i: llm.structured(ASK, Label, purpose="t", sample=i).label,
                                   range(16)))
    assert len(labels) == 16 and server.formats["json_object+schema"] == 16
    assert 1 <= server.formats["json_schema"] <= 8  # at most the calls already in flight
    assert llm.usage.retries == 0


def test_a_fixed_mode_is_used_as_given_and_a_refusal_is_not_hidden():
    with FakeOpenAI(latency=0.0) as server:
        llm_for(server, structured_output="json_object").structured(ASK, Label, purpose="t")
    assert server.formats == {"json_object": 1}
    with FakeOpenAI(latency=0.0, refuse_json_schema=True) as server:
        with pytest.raises(Exception, match="response_format"):
            llm_for(server, structured_output="json_schema", retry_attempts=1).structured(
                ASK, Label, purpose="t")


def test_unknown_modes_are_refused_by_name():
    with pytest.raises(ValueError, match="structured output mode 'xml'"):
        OpenAILLM("m", api_key="k", structured_output="xml")
    with pytest.raises(ValueError, match="tool calling mode 'maybe'"):
        OpenAILLM("m", api_key="k", tool_calling="maybe")


def test_response_format_shapes():
    schema = {"type": "object"}
    assert response_format("json_schema", schema)["json_schema"]["schema"] is schema
    assert response_format("json_object_schema", schema) == {"type": "json_object", "schema": schema}
    assert response_format("json_object", schema) == {"type": "json_object"}

    class Refused(Exception):
        status_code = 500

    assert refuses_response_format(Refused("body.response_format.type: Input should be 'text'"))
    assert not refuses_response_format(Refused("The server had an error"))


def test_a_reply_without_a_tool_call_falls_back_to_a_schema_decision(planner_tools):
    # The fake answers tool requests in prose, as llama-cpp-python's server does for small models.
    with FakeOpenAI(latency=0.0) as server:
        llm = llm_for(server)
        first = llm.propose_tool(ASK, planner_tools)
        second = llm.propose_tool(ASK, planner_tools)
    assert first["tool"] in ("search_datasets", "generate_examples")
    assert second["tool"] in ("search_datasets", "generate_examples")
    # native once, then a decision object each time; the second call skips native tools.
    # The decision schema's root is anyOf, which OpenAI's json_schema refuses: JSON mode carries it.
    assert server.requests == 3 and server.formats == {"json_object+schema": 2}
    assert llm.describe()["tool_calling"] == "json"


def test_native_only_tool_calling_reports_the_missing_call(planner_tools):
    with FakeOpenAI(latency=0.0) as server:
        with pytest.raises(LLMOutputError, match="no tool call"):
            llm_for(server, tool_calling="native").propose_tool(ASK, planner_tools[:1])
