"""langgraph.json points at a loadable graph factory (what LangGraph Studio / `langgraph dev` import)."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_langgraph_json_graph_loads_by_path(tmp_path, monkeypatch):
    spec = json.loads((ROOT / "langgraph.json").read_text())
    path, _, attr = spec["graphs"]["p2m"].partition(":")
    monkeypatch.setenv("P2M_STUDIO_RUN", str(tmp_path / "studio"))
    monkeypatch.setenv("P2M_STUDIO_TASK", str(ROOT / "examples" / "sst2.yaml"))
    monkeypatch.setenv("P2M_STUDIO_LLM", "none")
    module_spec = importlib.util.spec_from_file_location("studio", ROOT / path)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    graph = getattr(module, attr)()
    assert {"planner", "guard", "act", "report"} <= set(graph.get_graph().nodes)
    assert (tmp_path / "studio" / "data" / "examples.jsonl").is_file()
