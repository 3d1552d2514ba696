"""What every bench script shares: the commit a figure was measured at, and its JSON line kept
in bench/results/."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any


def commit() -> str:
    """The short hash of the checked-out commit ("?" outside a git checkout)."""
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                              cwd=Path(__file__).parent, timeout=10).stdout.strip() or "?"
    except OSError:
        return "?"


def append(path: str | Path, *lines: dict[str, Any]) -> None:
    """Append JSON lines to a results file (its folder made when missing)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as f:
        f.write("".join(json.dumps(line) + "\n" for line in lines))
