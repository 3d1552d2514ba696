"""RUN/: the one module that reads and writes a run directory's files (their names: `run_files`).

    task.json, config.json    the task and the settings the run was started with
    data/examples.jsonl       every row with its split and provenance (runfolder/data_store.py)
    model_choice.json         the chosen student; train.json: the last training job
    metrics.json              every gold-scored iteration, the baselines, the published model
    selection.json            what validation chose; model/: the published model
    trace.jsonl, report.json  the decision trace; the outcome
    checkpoints.sqlite, llm_cache.sqlite   LangGraph's checkpoints; the LLM reply cache
    run.lock                  held (flock) by the process executing the run; holds its pid
    steps/K/                  the run's files after step K (0: before the first): what `p2m fork` restores
"""
from __future__ import annotations

import json
import os
import shutil
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Optional

from p2m.core.config import RunConfig
from p2m.core.files import write_json_atomic
from p2m.runfolder.run_files import (CASCADE, CHOICE, CONFIG, DATA, DROPPED, EXAMPLES, LOCK, MODEL, REPORT, STEP, STEPS,
                        TASK, TRACE)
from p2m.core.schemas import TaskSpec
from p2m.runfolder.data_store import DataStore

MODEL_FILES = ("config.json", "head.json", "baseline.json")  # a student (fine-tuned or a head) or a baseline
FIXED = (TASK, CONFIG, REPORT)  # set at creation, or written at the end: never part of a step
APPEND_ONLY = (f"{DATA}/{EXAMPLES}", f"{DATA}/{DROPPED}", TRACE)  # a step keeps their length
MODEL_EXTRAS = (CASCADE, "README.md")  # written into model/ beside the published copy


class RunError(RuntimeError):
    """A run directory that cannot be created, read or resumed."""


def has_model(model_dir: str | Path) -> bool:
    """Whether `model_dir` holds a model p2m can run: a student (fine-tuned, or a head on frozen
    embeddings) or a saved baseline."""
    return any((Path(model_dir) / name).is_file() for name in MODEL_FILES)


class RunDir:
    """One run directory."""

    def __init__(self, path: str | Path):
        self.path = Path(path)

    def file(self, *parts: str) -> Path:
        return self.path.joinpath(*parts)

    @property
    def is_run(self) -> bool:
        return self.file(TASK).is_file()

    def require(self) -> "RunDir":
        """Itself, or RunError when the folder is not a p2m run."""
        if not self.is_run:
            raise RunError(f"{self.path} is not a p2m run (no {TASK})")
        return self

    @contextmanager
    def lock(self) -> Iterator["RunDir"]:
        """Hold the run for this process: a second process executing it (two `p2m resume`) is
        refused with the holder's pid. The kernel drops the lock when its holder dies (kill -9
        included), so a crashed run never stays locked."""
        import fcntl

        fd = os.open(self.file(LOCK), os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
            os.close(fd)
            raise RunError(f"{self.path} is being executed by process {holder}: wait for it to "
                           f"end (or stop it) before resuming") from None
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, str(os.getpid()).encode(), 0)
            yield self
        finally:
            os.ftruncate(fd, 0)  # no holder named once released (`holder`)
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def holder(self) -> Optional[int]:
        """The pid of the live process executing the run (the one run.lock names, when it is
        still alive), else None. Read only: the lock itself is never taken here."""
        try:
            pid = int(self.file(LOCK).read_text().strip() or 0)
        except (OSError, ValueError):
            return None
        if pid <= 0:
            return None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:  # alive, another user's
            return pid
        return pid

    # -- JSON files ---------------------------------------------------------------------------
    def read_json(self, name: str, default: Any = None) -> Any:
        """The file's JSON, `default` when it is absent; RunError naming the file when it cannot
        be read as JSON (corrupt, not UTF-8, nested too deeply)."""
        p = self.file(name)
        if not p.exists():
            return default
        try:
            return json.loads(p.read_bytes().decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
            raise RunError(f"{p}: not readable as JSON ({type(exc).__name__}: {str(exc)[:120]})") from None

    def write_json(self, name: str, value: Any) -> Path:
        """Write atomically and redacted (`files.write_json_atomic`)."""
        return write_json_atomic(self.file(name), value)

    # -- what a run holds ---------------------------------------------------------------------
    def task(self) -> TaskSpec:
        self.require()
        return TaskSpec.model_validate_json(self.file(TASK).read_text(encoding="utf-8"))

    def config(self) -> RunConfig:
        return RunConfig.from_dict(self.read_json(CONFIG, {}))

    def require_new(self) -> "RunDir":
        """Itself, or RunError when the folder already holds a run (nothing is overwritten)."""
        if self.is_run:
            raise RunError(f"{self.path} already holds a run; use `p2m resume {self.path}` or another --out")
        return self

    def create(self, task: TaskSpec, config: RunConfig) -> None:
        """Write task.json and config.json of a new run (RunError when one is there)."""
        self.require_new()
        self.path.mkdir(parents=True, exist_ok=True)
        self.write_json(CONFIG, config.to_dict())
        self.write_json(TASK, task.model_dump())

    def save_task(self, task: TaskSpec) -> None:
        self.write_json(TASK, task.model_dump())

    def report(self) -> Optional[dict[str, Any]]:
        """report.json once the run has ended (None before); RunError when it is unreadable."""
        report = self.read_json(REPORT)
        if report is not None and not isinstance(report, dict):
            raise RunError(f"{self.file(REPORT)}: not a report (a JSON {type(report).__name__})")
        return report

    def model_choice(self) -> dict[str, Any]:
        choice = self.read_json(CHOICE)
        if choice is None:
            raise FileNotFoundError(f"{self.path} has no chosen model yet ({CHOICE})")
        return choice

    @property
    def trace_path(self) -> Path:
        return self.file(TRACE)

    @property
    def model_dir(self) -> Path:
        return self.file(MODEL)

    def require_model(self) -> Path:
        """The published model's folder, or FileNotFoundError saying there is none."""
        if not has_model(self.model_dir):
            raise FileNotFoundError(f"{self.path} has no trained model (model/ is missing)")
        return self.model_dir

    @property
    def store(self) -> DataStore:
        return DataStore(self.path)

    # -- steps (what `p2m fork` restores) -----------------------------------------------------
    def save_step(self, k: int) -> Path:
        """Keep what the run's files hold after step `k` (0: before the first): the JSON files the
        tools rewrite (top-level, data/, model/'s threshold and card) and the length in bytes of
        the append-only files (rows, dropped rows, trace). Models are never copied: each training
        has its own folder under train/, which later steps do not change."""
        dest, tmp = self.file(STEPS, str(k)), self.file(STEPS, f"{k}.tmp")
        if tmp.exists():
            shutil.rmtree(tmp)
        tmp.mkdir(parents=True)
        for path in [*self.path.glob("*.json"), *self.file(DATA).glob("*.json")]:
            if path.name not in FIXED or path.parent != self.path:
                shutil.copy2(path, tmp / path.relative_to(self.path).as_posix().replace("/", "__"))
        for name in MODEL_EXTRAS:
            if self.file(MODEL, name).is_file():
                shutil.copy2(self.file(MODEL, name), tmp / f"{MODEL}__{name}")
        lengths = {name: self.file(name).stat().st_size if self.file(name).exists() else 0 for name in APPEND_ONLY}
        write_json_atomic(tmp / STEP, {"step": k, "lengths": lengths})
        if dest.exists():  # the step ran again after a kill: its newer files replace the old
            shutil.rmtree(dest)
        tmp.rename(dest)
        return dest

    def saved_steps(self) -> list[int]:
        """The steps whose files were kept (`save_step`), in order."""
        folder = self.file(STEPS)
        return sorted(int(p.name) for p in folder.iterdir() if p.name.isdigit()) if folder.is_dir() else []
