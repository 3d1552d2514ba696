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


def test_doctor_json_prints_no_credentials_of_the_base_url():
    """Issue 35: `p2m doctor --json` printed the base URL with its credentials."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "OPENAI_BASE_URL": "http://:SECRET-9f3e1@127.0.0.1:9/v1"}
    proc = subprocess.run([sys.executable, "-m", "p2m.cli", "doctor", "--llm", "openai:fake", "--json",
                           "--no-ping"], capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "SECRET-9f3e1" not in proc.stdout + proc.stderr
    assert "http://[redacted]@127.0.0.1:9/v1" in proc.stdout
