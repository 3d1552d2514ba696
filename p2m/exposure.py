"""Who may reach what p2m serves: loopback freely, any other address only with credentials."""
from __future__ import annotations

import ipaddress
import os
from typing import Any, Optional


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


def loopback_name(host: Optional[str]) -> bool:
    """Whether a Host header's or an Origin's host is a loopback name (the port aside)."""
    from urllib.parse import urlsplit

    if not host:
        return False
    try:
        name = urlsplit(host if "//" in host else "//" + host).hostname
    except ValueError:
        return False
    return bool(name) and is_loopback(name)


class LoopbackOnly:
    """ASGI middleware for a UI bound to loopback without credentials: a request must name a
    loopback Host and, when it carries an Origin, a loopback one; else 403 (a WebSocket is
    closed). A page elsewhere that rebinds its DNS name to 127.0.0.1 sends its own name as
    Host, and a cross-site form or fetch its own Origin, so neither can drive the app."""

    def __init__(self, app: Any):
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope.get("type") in ("http", "websocket"):
            headers = {k.lower(): v.decode("latin-1") for k, v in scope.get("headers") or []}
            origin = headers.get(b"origin")
            if not loopback_name(headers.get(b"host")) or (origin is not None and not loopback_name(origin)):
                if scope["type"] == "websocket":
                    await send({"type": "websocket.close", "code": 1008})
                    return
                body = b"p2m: this UI answers requests addressed to 127.0.0.1 or localhost only\n"
                await send({"type": "http.response.start", "status": 403,
                            "headers": [(b"content-type", b"text/plain"),
                                        (b"content-length", str(len(body)).encode())]})
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)
