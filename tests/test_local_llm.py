"""The real embedded model: multi-token prompts run (AMX repacking off) and output is constrained."""
from typing import Literal

import pytest
from pydantic import BaseModel

from p2m.agent.local_llm import LocalLLM


@pytest.fixture(scope="module")
def llm():
    return LocalLLM()


def test_multi_token_prompt_runs_with_extra_bufts_off(llm):
    # Without use_extra_bufts=False this crashes (segfault) on AMX CPUs for any prompt > 1 token.
    import llama_cpp.llama_cpp as bindings

    reply = llm.text([{"role": "user", "content": "Name three colours of the rainbow."}],
                     purpose="t", max_tokens=24)
    assert reply.strip()
    assert bindings.llama_model_default_params().use_extra_bufts is False


class Review(BaseModel):
    label: Literal["positive", "negative"]
    confidence: int


def test_constrained_decoding_round_trips(llm):
    for i, text in enumerate(["a wonderful film", "boring and far too long", "I loved it",
                              "a waste of time", "charming"]):
        out = llm.structured([{"role": "user", "content": f"Classify: {text}"}], Review,
                             purpose="t", max_tokens=40, temperature=0.8, sample=i)
        assert isinstance(out, Review)
    assert llm.usage.faults.get("invalid_output", 0) == 0


def test_tool_proposal_is_always_a_known_tool(llm):
    from p2m.tools.toolkit import TOOLS, build_tools

    decision = llm.propose_tool([{"role": "user", "content": "We have no data yet. Choose a tool."}],
                                build_tools(None))
    assert decision["tool"] in TOOLS
    TOOLS[decision["tool"]][1].model_validate(decision["args"])  # arguments fit the tool's schema


def test_model_is_loaded_once(llm):
    other = LocalLLM()
    assert other.llama is llm.llama
