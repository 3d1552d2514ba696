"""Who may reach what p2m serves: loopback freely, any other address only with credentials."""
from __future__ import annotations

import ipaddress
import os
from typing import Optional


def is_loopback(host: str) -> bool:
    if host in ("localhost", ""):
        return host == "localhost"
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name other than localhost may resolve anywhere
        return False


def ui_auth(host: str) -> Optional[tuple[str, str]]:
    """Gradio credentials from P2M_UI_AUTH ("user:password"); required off loopback, where anyone
    who reaches the UI could otherwise start runs that spend the user's API key."""
    raw = os.environ.get("P2M_UI_AUTH", "")
    if raw:
        user, sep, password = raw.partition(":")
        if not sep or not user or not password:
            raise ValueError("P2M_UI_AUTH must be 'user:password'")
        return user, password
    if not is_loopback(host):
        raise ValueError(f"binding the UI to {host} (not loopback) needs credentials: set "
                         "P2M_UI_AUTH=user:password")
    return None


def server_key(host: str, api_key: Optional[str]) -> Optional[str]:
    """The API key serve-llm requires (--api-key or P2M_SERVER_API_KEY); mandatory off loopback."""
    key = api_key or os.environ.get("P2M_SERVER_API_KEY") or None
    if key is None and not is_loopback(host):
        raise ValueError(f"serving the LLM on {host} (not loopback) needs an API key: --api-key KEY "
                         "or P2M_SERVER_API_KEY")
    return key
