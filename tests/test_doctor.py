"""`p2m doctor`: the structured ping tells which response_format a server takes."""
from __future__ import annotations

from p2m.doctor import diagnose
from bench.fake_openai import FakeOpenAI


def test_doctor_reports_the_mode_a_server_takes(monkeypatch):
    with FakeOpenAI(latency=0.0, refuse_json_schema=True) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        info = diagnose("openai:fake")
    assert info["ok"] and info["answered"] and info["structured_ok"]
    assert info["structured_output"] == "json_object_schema"


def test_doctor_is_not_ok_when_json_replies_do_not_validate(monkeypatch):
    monkeypatch.setenv("P2M_LLM_MAX_WAIT", "0.05")
    with FakeOpenAI(latency=0.0, faults={"invalid_json": 1.0}) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        info = diagnose("openai:fake")
    assert info["answered"] and not info["structured_ok"] and not info["ok"]
    assert "LLMOutputError" in info["structured_error"]


def test_doctor_without_an_llm_needs_no_ping():
    info = diagnose("none")
    assert info["ok"] and info["backend"] == "none" and "structured_ok" not in info
