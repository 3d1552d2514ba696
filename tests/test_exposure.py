"""Serving off loopback needs credentials; loopback needs none."""
import pytest

from p2m.exposure import is_loopback, server_key, ui_auth


def test_loopback_addresses():
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("10.1.2.3") and not is_loopback("example.org")


def test_the_ui_off_loopback_needs_credentials(monkeypatch):
    monkeypatch.delenv("P2M_UI_AUTH", raising=False)
    assert ui_auth("127.0.0.1") is None
    with pytest.raises(ValueError, match="P2M_UI_AUTH"):
        ui_auth("0.0.0.0")
    monkeypatch.setenv("P2M_UI_AUTH", "ana:s3cret")
    assert ui_auth("0.0.0.0") == ("ana", "s3cret")
    monkeypatch.setenv("P2M_UI_AUTH", "no-colon")
    with pytest.raises(ValueError, match="user:password"):
        ui_auth("127.0.0.1")


def test_the_llm_server_off_loopback_needs_a_key(monkeypatch):
    monkeypatch.delenv("P2M_SERVER_API_KEY", raising=False)
    assert server_key("127.0.0.1", None) is None
    with pytest.raises(ValueError, match="API key"):
        server_key("0.0.0.0", None)
    assert server_key("0.0.0.0", "k") == "k"
