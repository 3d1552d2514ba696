"""Shared fixtures: a tiny BERT built from a config, a small SST-2 catalog slice, scripted LLMs."""
from __future__ import annotations

import atexit
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ["P2M_INDEX_DIR"] = tempfile.mkdtemp(prefix="p2m-index-")  # never the user's cache
atexit.register(shutil.rmtree, os.environ["P2M_INDEX_DIR"], ignore_errors=True)  # nor left in /tmp

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
_SESSION: dict[str, int] = {}


def pytest_sessionfinish(session, exitstatus):
    _SESSION["status"] = int(exitstatus)


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config):
    """Leave with pytest's own status once it has reported, before the interpreter tears down the
    native libraries one test process holds together (torch, onnxruntime, llama.cpp, chromadb):
    after a whole suite had passed, a C++ thread still joinable at finalization aborted the
    process ("terminate called without an active exception", status 134), which CI reads as a
    failure. P2M_TEST_FINALIZE=1 keeps the normal teardown, to look into it."""
    if "status" in _SESSION and os.environ.get("P2M_TEST_FINALIZE") != "1":
        shutil.rmtree(os.environ["P2M_INDEX_DIR"], ignore_errors=True)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(_SESSION["status"])


@pytest.fixture(scope="session")
def shared() -> Path:
    if not (SHARED / "datasets").is_dir():
        pytest.fail(f"../shared/datasets not found at {SHARED}")
    return SHARED


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> Path:
    """A 2-layer, 32-wide BERT with MiniLM's tokenizer: trains in seconds (a test fixture only)."""
    from bench.fixtures import tiny_bert

    return tiny_bert(tmp_path_factory.mktemp("tiny-bert"))


def slice_catalog(shared: Path, root: Path, sizes: tuple[tuple[str, int, int], ...]) -> Path:
    """A catalog folder with the first (n_train, n_test) rows of each named real dataset."""
    for name, n_train, n_test in sizes:
        src, dst = shared / "datasets" / name, root / name
        dst.mkdir()
        (dst / "card.json").write_text((src / "card.json").read_text())
        for split, n in (("train", n_train), ("test", n_test)):
            lines = (src / f"{split}.jsonl").read_text().splitlines()[:n]
            (dst / f"{split}.jsonl").write_text("\n".join(lines) + "\n")
    return root


@pytest.fixture(scope="session")
def make_catalog(shared):
    """make_catalog(root, ((name, n_train, n_test), ...)) -> a sliced catalog folder."""
    return lambda root, sizes: slice_catalog(shared, root, sizes)


@pytest.fixture(scope="session")
def sst2_catalog(shared, tmp_path_factory) -> Path:
    """A catalog of three real datasets cut to small slices (sst2, trec, agnews)."""
    return slice_catalog(shared, tmp_path_factory.mktemp("catalog"),
                         (("sst2", 240, 60), ("trec", 40, 10), ("agnews", 40, 10)))


@pytest.fixture(scope="session")
def finish_tiny_sst2_run(sst2_catalog, tiny_model_dir):
    """finish(out) -> out: a finished SST-2 run with no LLM, the tiny model, one epoch, one iteration."""
    from p2m import runner
    from p2m.core.config import RunConfig
    from p2m.core.schemas import TaskSpec

    def finish(out: Path) -> Path:
        config = RunConfig(llm="none", catalog=[str(sst2_catalog)], model=str(tiny_model_dir))
        config.train.epochs, config.budget.max_iterations = 1, 1
        runner.create_run(TaskSpec(instruction="Classify movie review sentiment.", labels=["negative", "positive"]),
                          config, out)
        runner.execute(runner.open_context(out, progress=False))
        return out

    return finish


@pytest.fixture
def write_script():
    """Write a scripted-LLM file: write_script(path, entries) -> path."""

    def write(path: Path, entries: list[dict]) -> Path:
        path.write_text("\n".join(json.dumps(e) for e in entries) + "\n")
        return path

    return write


@pytest.fixture(scope="session")
def planner_tools() -> list:
    """Two stand-in tools for planner calls: a search and a generation step."""
    from langchain_core.tools import tool

    @tool
    def search_datasets(query: str) -> str:
        """Search the dataset catalog for datasets that fit the task."""
        return query

    @tool
    def generate_examples(n: int) -> str:
        """Generate n synthetic training examples with the LLM."""
        return str(n)

    return [search_datasets, generate_examples]
