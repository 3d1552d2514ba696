"""Durable writes and redaction."""
import json

from p2m.core.files import append_durably, redact, write_json_atomic


def test_redact_keys_env_secrets_and_url_credentials(monkeypatch):
    monkeypatch.setenv("MY_SERVICE_TOKEN", "tok-1234567890")
    text = ("key sk-abcdefghijkl, env tok-1234567890, url https://bob:hunter2@llm.example/v1, "
            "q https://llm.example/v1?api_key=zzz&x=1")
    out = redact({"a": [text]})["a"][0]
    for secret in ("sk-abcdefghijkl", "tok-1234567890", "hunter2", "bob:", "zzz"):
        assert secret not in out
    assert "https://[redacted]@llm.example/v1" in out and "x=1" in out


def test_json_files_are_written_whole_and_redacted(tmp_path):
    path = write_json_atomic(tmp_path / "r.json", {"llm": {"base_url": "http://u:p4ss@h:8000/v1"}})
    assert json.loads(path.read_text())["llm"]["base_url"] == "http://[redacted]@h:8000/v1"
    assert not list(tmp_path.glob("*.tmp"))


def test_an_append_after_a_torn_line_does_not_glue_onto_it(tmp_path):
    path = tmp_path / "rows.jsonl"
    path.write_bytes(b'{"a": 1}\n{"a": 2, "b"')  # killed mid-row
    append_durably(path, b'{"a": 3}\n')
    lines = path.read_bytes().split(b"\n")
    assert lines[1] == b'{"a": 2, "b"' and json.loads(lines[2]) == {"a": 3}


def test_stderr_is_redacted_and_tuples_stay_tuples(monkeypatch):
    import io

    from p2m.core.files import RedactingStream

    monkeypatch.setenv("OPENAI_API_KEY", "key-from-env-123456")
    inner = io.StringIO()
    stream = RedactingStream(inner)
    stream.write("Error 500: The server had an error (key key-from-env-123456)\n")
    assert "key-from-env-123456" not in inner.getvalue() and "[redacted]" in inner.getvalue()
    assert redact(("a", "key-from-env-123456")) == ("a", "[redacted]")


def test_redact_covers_every_credential_form_the_probe_found(monkeypatch):
    """Issue 35: each of these passed through redact() unchanged."""
    monkeypatch.setenv("P2M_UI_AUTH", "admin:ui-pass-31415")
    forms = {
        "http://:SECRET1abc@127.0.0.1:9/v1": "SECRET1abc",             # empty user
        "http://TOKEN2abcdef@127.0.0.1:9/v1": "TOKEN2abcdef",          # a bare token as userinfo
        "https://h/v1?api-key=APIKEY3xyz&x=1": "APIKEY3xyz",
        "https://h/v1?subscription-key=SUB4xyz": "SUB4xyz",
        "https://h/v1?a=1&X-Amz-Signature=SIG5xyz": "SIG5xyz",
        "Authorization: Bearer BEARER6xyz": "BEARER6xyz",
        '{"authorization": "Basic QmFzaWM3eHl6"}': "QmFzaWM3eHl6",
        "x-api-key: XKEY8xyz": "XKEY8xyz",
        "sent Bearer abcdefgh9xyz to the server": "abcdefgh9xyz",
        "the UI password is ui-pass-31415": "ui-pass-31415",         # a configured secret's part
    }
    for text, secret in forms.items():
        out = redact(text)
        assert secret not in out and "[redacted]" in out, (text, out)
    assert redact("https://h/v1?x=1&page=2") == "https://h/v1?x=1&page=2"  # nothing else is touched
    assert redact("Authorization: Bearer B6xyzabc").startswith("Authorization: Bearer [redacted]")


def test_a_registered_secret_is_redacted_everywhere():
    from p2m.core.files import add_secret

    add_secret("flag-given-key-2718")
    assert redact({"k": ["serve with flag-given-key-2718"]}) == {"k": ["serve with [redacted]"]}
