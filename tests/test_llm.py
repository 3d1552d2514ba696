import pytest
from pydantic import BaseModel

from p2m.llm.accounting import Usage
from p2m.llm.cache import ResponseCache
from p2m.llm.llm import LLMBudgetExceeded, extract_json
from p2m.llm.retry import LLMOutputError, TransientLLMError, classify_error
from p2m.llm.scripted_llm import ScriptedLLM, ScriptExhausted


class Answer(BaseModel):
    label: str


def test_extract_json_tolerates_fences_and_prose():
    assert extract_json('```json\n{"a": 1}\n```') == {"a": 1}
    assert extract_json('Sure! {"a": 2} hope it helps') == {"a": 2}


def test_rate_limits_are_retried_and_counted():
    llm = ScriptedLLM([{"error": "rate_limit", "retry_after": 0.01}, {"error": "server_error"},
                       {"json": {"label": "pos"}}])
    assert llm.structured([{"role": "user", "content": "x"}], Answer, purpose="t").label == "pos"
    assert llm.usage.faults == {"rate_limit": 1, "server_error": 1}
    assert llm.usage.retries == 2 and llm.usage.calls == 1


def test_retries_give_up_after_the_limit():
    llm = ScriptedLLM([{"error": "timeout"}] * 3, retry_attempts=3)
    with pytest.raises(TransientLLMError):
        llm.text([{"role": "user", "content": "x"}], purpose="t")
    assert llm.usage.faults["timeout"] == 3


def test_invalid_json_is_an_output_error():
    llm = ScriptedLLM([{"content": "not json at all"}])
    with pytest.raises(LLMOutputError):
        llm.structured([{"role": "user", "content": "x"}], Answer, purpose="t")
    assert llm.usage.faults["invalid_output"] == 1


def test_cache_answers_repeated_calls(tmp_path):
    cache = ResponseCache(tmp_path / "c.sqlite")
    llm = ScriptedLLM([{"content": "one"}], cache=cache)
    msgs = [{"role": "user", "content": "hello"}]
    assert llm.text(msgs, purpose="t") == "one"
    again = ScriptedLLM([], cache=ResponseCache(tmp_path / "c.sqlite"))
    assert again.text(msgs, purpose="t") == "one"  # from disk, script untouched
    assert again.usage.cache_hits == 1 and again.usage.calls == 0


def test_an_unreadable_cache_is_set_aside_and_a_fresh_one_started(tmp_path):
    path = tmp_path / "c.sqlite"
    path.write_bytes(b"garbage" * 1000)
    cache = ResponseCache(path)
    assert cache.quarantined is not None and cache.quarantined.read_bytes() == b"garbage" * 1000
    llm = ScriptedLLM([{"content": "one"}], cache=cache)
    assert llm.text([{"role": "user", "content": "hi"}], purpose="t") == "one"


def test_a_resumed_run_bills_replies_a_killed_process_paid_for_after_its_snapshot(tmp_path):
    msgs = [[{"role": "user", "content": str(i)}] for i in range(3)]
    killed = ScriptedLLM([{"content": "a"}, {"content": "b"}, {"content": "c"}],
                         cache=ResponseCache(tmp_path / "c.sqlite"))
    killed.text(msgs[0], purpose="t")
    snapshot = killed.usage.to_dict()  # the last checkpoint: one call billed
    killed.text(msgs[1], purpose="t")
    killed.text(msgs[2], purpose="t")  # paid for, then the process is killed
    resumed = ScriptedLLM([], cache=ResponseCache(tmp_path / "c.sqlite"), max_calls=3)
    resumed.usage.load(snapshot)
    for m in msgs:
        resumed.text(m, purpose="t")
    assert resumed.usage.calls == 3 and resumed.usage.cache_hits == 1  # msgs[0] was in the snapshot
    resumed.text(msgs[2], purpose="t")  # a replay is billed once; asking again is a plain hit
    assert resumed.usage.calls == 3 and resumed.usage.cache_hits == 2


def test_call_budget():
    llm = ScriptedLLM([{"content": "a"}, {"content": "b"}], max_calls=1)
    llm.text([{"role": "user", "content": "1"}], purpose="t")
    with pytest.raises(LLMBudgetExceeded):
        llm.text([{"role": "user", "content": "2"}], purpose="t")


def test_script_purposes_and_exhaustion():
    llm = ScriptedLLM([{"purpose": "plan", "content": "p"}, {"content": "g"}])
    assert llm.text([{"role": "user", "content": "1"}], purpose="other") == "g"
    assert llm.text([{"role": "user", "content": "2"}], purpose="plan") == "p"
    with pytest.raises(ScriptExhausted):
        llm.text([{"role": "user", "content": "3"}], purpose="plan")


def test_classify_error_by_status():
    class E(Exception):
        status_code = 503
    assert classify_error(E()) == "server_error"
    assert classify_error(ValueError()) is None


def test_usage_snapshot_roundtrip():
    u = Usage()
    u.record("gpt-4o-mini", "plan", 1000, 500)
    u.record_fault("rate_limit")
    v = Usage()
    v.load(u.to_dict())
    assert v.to_dict() == u.to_dict() and v.cost_usd > 0
