"""`python -m bench.crash_hooks ARGS...` runs `p2m ARGS...` with faults injected at the file layer,
as SQLite's crash tests do, chosen by the environment:

- `P2M_CRASH=replace:N:before` / `replace:N:after`: SIGKILL at the Nth rename (`os.replace`),
  just before it (a fsynced temporary not yet in place) or just after it (before the folder's fsync).
- `P2M_CRASH=torn:N`: the Nth durable append (`p2m.core.files.append_durably`) writes half of its bytes,
  then the process is killed: a torn last line.
- `P2M_CRASH=short:N`: every Nth unbuffered append write writes at most half of what it is given
  (the caller must loop); the run must still finish with every row whole.
- `P2M_CRASH_COUNT=FILE`: write how many renames and appends the run made (to draw N from).
"""
from __future__ import annotations

import atexit
import json
import os
import signal
import sys
from collections import Counter
from typing import Any

counts: Counter[str] = Counter()


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


class _Appender:
    """A file opened for appending whose writes are cut as `P2M_CRASH` says."""

    def __init__(self, inner: Any, kind: str, n: int):
        self.inner, self.kind, self.n = inner, kind, n

    def write(self, data: bytes) -> int:
        counts["write"] += 1
        if self.kind == "short" and counts["write"] % self.n == 0 and len(data) > 1:
            return self.inner.write(bytes(data[: len(data) // 2]))
        return self.inner.write(data)

    def __enter__(self) -> "_Appender":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.inner.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def install(spec: str) -> None:
    """Patch `os.replace` and the appends of `p2m.core.files` per `spec` (see the module docstring)."""
    from p2m.core import files

    kind, _, rest = spec.partition(":")
    n, _, when = rest.partition(":")
    n = int(n or 0)
    real_replace, real_open, real_append = os.replace, open, files.append_durably

    def replace(src: Any, dst: Any, *args: Any, **kw: Any) -> None:
        counts["replace"] += 1
        hit = kind == "replace" and counts["replace"] == n
        if hit and when == "before":
            die()
        real_replace(src, dst, *args, **kw)
        if hit and when == "after":
            die()

    def opener(path: Any, mode: str = "r", *args: Any, **kw: Any) -> Any:
        f = real_open(path, mode, *args, **kw)
        return _Appender(f, kind, n) if mode == "ab" and kind == "short" else f

    def append(path: Any, block: bytes) -> None:
        counts["append"] += 1
        if kind == "torn" and counts["append"] == n:
            with real_open(path, "ab") as f:
                f.write(block[: max(1, len(block) // 2)])
                f.flush()
                os.fsync(f.fileno())
            die()
        real_append(path, block)

    os.replace = replace
    files.open = opener  # the module's own `open`: only p2m's appends see short writes
    files.append_durably = append
    # Modules that imported the function by name get the patched one too.
    for name, module in list(sys.modules.items()):
        if name.startswith("p2m.") and getattr(module, "append_durably", None) is real_append:
            module.append_durably = append


def main() -> int:
    import p2m.runfolder.trace  # noqa: F401  (imported first so their `append_durably` gets patched)
    import p2m.runfolder.data_store  # noqa: F401
    from p2m.cli import main as p2m_main

    install(os.environ.get("P2M_CRASH", ""))
    count_file = os.environ.get("P2M_CRASH_COUNT")
    if count_file:
        atexit.register(lambda: open(count_file, "w").write(json.dumps(dict(counts))))
    return p2m_main(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
