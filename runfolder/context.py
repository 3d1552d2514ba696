"""Everything one run's tools share: heavy objects are made once and passed in, not rebuilt."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from p2m.core.config import RunConfig
from p2m.runfolder.rundir import RunDir
from p2m.core.schemas import TaskSpec
from p2m.runfolder.data_store import DataStore
from p2m.llm.llm import LLM
from p2m.runfolder.trace import TraceWriter


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
    teacher_llm: Optional[LLM] = None  # None: the run's LLM teaches too
    deadline: Optional[float] = None  # time.monotonic() when the wall budget is spent (set per step)
    step: Optional[int] = None  # the agent step running now (set per step; a resumed step keeps its number)

    @property
    def teacher(self) -> Optional[LLM]:
        """The LLM that labels, verifies and is scored as the teacher baseline."""
        return self.teacher_llm or self.llm

    @property
    def run(self) -> RunDir:
        return RunDir(self.run_dir)

    @property
    def store(self) -> DataStore:
        return self.run.store

    def path(self, *parts: str) -> Path:
        return self.run.file(*parts)

    def read_json(self, name: str, default: Any = None) -> Any:
        return self.run.read_json(name, default)

    def write_json(self, name: str, value: Any) -> Path:
        """Write atomically: a temporary file renamed into place."""
        return self.run.write_json(name, value)
