import pytest

from p2m.llm.factory import LLMSpecError, default_spec, make_llm
from p2m.llm.scripted_llm import ScriptedLLM


def test_none_is_no_llm():
    assert make_llm("none") is None


def test_scripted(tmp_path):
    f = tmp_path / "s.jsonl"
    f.write_text('{"content": "hi"}\n')
    assert isinstance(make_llm(f"scripted:{f}"), ScriptedLLM)


@pytest.mark.parametrize("spec", ["banana", "openai:", "scripted:"])
def test_bad_specs(spec):
    with pytest.raises(LLMSpecError):
        make_llm(spec)


def test_default_spec_follows_environment(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    assert default_spec() == "local"
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:8000/v1")
    assert default_spec().startswith("openai:")


def test_openai_backend_honours_base_url(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    llm = make_llm("openai:my-model")
    assert llm.describe() == {"backend": "openai", "model": "my-model", "base_url": "http://127.0.0.1:9/v1",
                              "structured_output": "json_schema", "tool_calling": "auto"}


def test_openai_without_key_or_url_is_a_clear_error(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    with pytest.raises(ValueError, match="OPENAI_API_KEY"):
        make_llm("openai:gpt-4o-mini")


def test_the_teacher_is_the_1_5b_beside_the_embedded_0_5b_and_the_runs_llm_otherwise():
    from p2m.llm.factory import teacher_spec

    assert teacher_spec("local") == "local:1.5b"  # its mirror is installed by the [local] extra
    assert teacher_spec("openai:gpt-4o-mini") == "openai:gpt-4o-mini"
    assert teacher_spec("local", "openai:big") == "openai:big"
