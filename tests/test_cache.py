"""The LLM reply cache: replies stored redacted."""
from p2m.llm.cache import ResponseCache, cache_key


def test_replies_are_stored_without_secrets(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-cache-secret-123456")
    cache = ResponseCache(tmp_path / "llm_cache.sqlite")
    key = cache_key(model="m", messages=["hi"])
    cache.put(key, {"content": "your key is sk-cache-secret-123456"}, seq=1)
    cache.close()
    assert b"sk-cache-secret-123456" not in (tmp_path / "llm_cache.sqlite").read_bytes()
    assert ResponseCache(tmp_path / "llm_cache.sqlite").get(key) == {"content": "your key is [redacted]"}
