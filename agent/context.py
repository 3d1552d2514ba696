"""Everything one run's tools share: heavy objects are made once and passed in, not rebuilt."""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from ..config import RunConfig
from ..schemas import TaskSpec
from .llm import LLM
from .trace import TraceWriter


@dataclass
class RunContext:
    run_dir: Path
    task: TaskSpec
    config: RunConfig
    llm: Optional[LLM]
    trace: TraceWriter
    catalog: list[Any] = field(default_factory=list)
    started: float = field(default_factory=time.time)
    progress: bool = True

    @property
    def store(self):  # noqa: ANN201 - imported lazily to keep agent/ free of tool imports
        from ..tools.data_store import DataStore

        return DataStore(self.run_dir)

    def path(self, *parts: str) -> Path:
        return self.run_dir.joinpath(*parts)

    def read_json(self, name: str, default: Any = None) -> Any:
        p = self.path(name)
        return json.loads(p.read_text(encoding="utf-8")) if p.exists() else default

    def write_json(self, name: str, value: Any) -> Path:
        """Write atomically: a temporary file renamed into place."""
        p = self.path(name)
        p.parent.mkdir(parents=True, exist_ok=True)
        tmp = p.with_name(p.name + ".tmp")
        try:
            tmp.write_text(json.dumps(value, indent=2, ensure_ascii=False, default=str), encoding="utf-8")
            tmp.replace(p)
        except OSError:  # e.g. disk full: the old file stays whole, no temporary is left behind
            tmp.unlink(missing_ok=True)
            raise
        return p
