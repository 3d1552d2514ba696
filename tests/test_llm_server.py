"""`p2m serve-llm`: the embedded model behind llama.cpp's OpenAI-compatible server, used
through the openai backend as any other endpoint would be."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
from pydantic import BaseModel, Field

from p2m.llm.openai_llm import OpenAILLM

pytest.importorskip("llama_cpp.server", reason="llama-cpp-python's server extra not installed")
pytestmark = pytest.mark.slow


class Sentiment(BaseModel):
    label: str = Field(description="the review's sentiment",
                       json_schema_extra={"enum": ["positive", "negative"]})


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "p2m.cli", "serve-llm", "--port", str(port),
                             "--ctx", "2048"], env={**os.environ, "P2M_THREADS": "1"},
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        for _ in range(240):
            if proc.poll() is not None:
                pytest.fail(f"serve-llm exited: {proc.stdout.read()[-2000:]}")
            try:
                urllib.request.urlopen(f"{url}/models", timeout=1)
                break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail("serve-llm did not answer within 120 s")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_structured_replies_are_decoded_under_the_schema(server):
    llm = OpenAILLM("local", base_url=server, timeout=120)
    reply = llm.structured([{"role": "user", "content": "Review: 'A wonderful, moving film.' "
                                                        "What is its sentiment?"}],
                           Sentiment, purpose="test")
    assert reply.label == "positive"
    # llama-cpp-python's server refuses json_schema; JSON mode with the schema is what it takes
    assert llm.describe()["structured_output"] == "json_object_schema"


def test_the_planner_gets_a_valid_tool_decision(server, planner_tools):
    llm = OpenAILLM("local", base_url=server, timeout=120)
    decision = llm.propose_tool(
        [{"role": "system", "content": "You build a small model for a task. Call one tool."},
         {"role": "user", "content": "Task: classify movie reviews. We have no data yet."}],
        planner_tools)
    assert decision["tool"] in ("search_datasets", "generate_examples")
    assert isinstance(decision["args"], dict)


def test_a_missing_model_file_is_named(tmp_path, capsys):
    from p2m.cli import main

    assert main(["serve-llm", "--model", str(tmp_path / "nope.gguf")]) == 2
    assert "model file not found" in capsys.readouterr().err
