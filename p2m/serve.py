"""`p2m serve RUN`: the published model behind HTTP, the teacher answering what it is unsure of.

    POST /v1/predict  {"texts": ["..."], "fallback": true}  ->  {"rows": [{"input", "output",
                      "confidence", "answered_by"}]}        (`predict.predict_texts`)
    GET  /health      ->  {"ok": true, "run": NAME}

Bound to 127.0.0.1 unless told otherwise; off loopback an API key is required (`--api-key` or
P2M_SERVER_API_KEY, sent as `Authorization: Bearer KEY`), and on loopback without one only
requests addressed to a loopback Host are answered (DNS rebinding), as the UI does.
"""
from __future__ import annotations

import hmac
import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Optional

from p2m.llm.factory import run_teacher
from p2m.exposure import loopback_name, server_key
from p2m.predict import predict_texts
from p2m.runfolder.rundir import RunDir

MAX_BODY = 1_000_000  # bytes of one request
MAX_TEXTS = 1000  # texts of one request


def make_server(run_dir: str | Path, host: str = "127.0.0.1", port: int = 8100,
                api_key: Optional[str] = None, fallback: bool = True) -> ThreadingHTTPServer:
    """The server for `run_dir`'s published model (not started); the teacher is made once."""
    run = RunDir(run_dir).require()
    run.require_model()
    key = server_key(host, api_key)  # required off loopback
    config = run.config()
    teacher = run_teacher(config) if fallback else None

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:  # quiet: requests carry users' texts
            pass

        def _send(self, status: int, payload: Any) -> None:
            body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _allowed(self) -> bool:
            if key is not None:
                sent = self.headers.get("Authorization", "")
                if not hmac.compare_digest(sent.encode(), f"Bearer {key}".encode()):
                    self._send(401, {"error": "an API key is required: Authorization: Bearer KEY"})
                    return False
            elif not loopback_name(self.headers.get("Host")):
                self._send(403, {"error": "this server answers requests addressed to 127.0.0.1 or localhost only"})
                return False
            return True

        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            if not self._allowed():
                return
            if self.path != "/health":
                self._send(404, {"error": "GET /health or POST /v1/predict"})
                return
            self._send(200, {"ok": True, "run": run.path.name})

        def do_POST(self) -> None:  # noqa: N802
            if not self._allowed():
                return
            if self.path != "/v1/predict":
                self._send(404, {"error": "POST /v1/predict"})
                return
            length = int(self.headers.get("Content-Length") or 0)
            if length <= 0 or length > MAX_BODY:
                self._send(413 if length > MAX_BODY else 400, {"error": f"a JSON body of 1 to {MAX_BODY} bytes"})
                return
            try:
                body = json.loads(self.rfile.read(length))
            except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
                self._send(400, {"error": "the body is not JSON"})
                return
            texts = body.get("texts", [body.get("text")] if "text" in body else None) if isinstance(body, dict) else None
            if not isinstance(texts, list) or not texts or len(texts) > MAX_TEXTS or \
                    not all(isinstance(t, str) and t.strip() for t in texts):
                self._send(400, {"error": f"'texts': 1 to {MAX_TEXTS} non-empty strings"})
                return
            use_teacher = fallback and bool(body.get("fallback", True))
            rows = predict_texts(run.path, texts, fallback=use_teacher, teacher=teacher if use_teacher else None)
            self._send(200, {"rows": rows})

    return ThreadingHTTPServer((host, port), Handler)


def serve(run_dir: str | Path, host: str = "127.0.0.1", port: int = 8100, api_key: Optional[str] = None,
          fallback: bool = True) -> None:
    """Serve until interrupted."""
    server = make_server(run_dir, host, port, api_key, fallback)
    print(f"serving {run_dir} at http://{host}:{port}/v1/predict", flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()
