"""bench.planner's trace summary: decisions by author and tool, the share the guard accepted."""
import json

from bench.planner import decisions


def test_decisions_count_authors_tools_and_overrides(tmp_path):
    events = [{"kind": "decision", "tool": "train", "summary": {"by": "llm"}},
              {"kind": "override", "tool": "generate_examples", "summary": {"proposed": {"tool": "train"}}},
              {"kind": "decision", "tool": "evaluate", "summary": {"by": "llm"}},
              {"kind": "decision", "tool": "finish", "summary": {"by": "budget"}},
              {"kind": "tool", "tool": "evaluate"}]
    (tmp_path / "trace.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events))
    got = decisions(tmp_path)
    assert got == {"decisions": {"llm": 2, "budget": 1}, "llm_tools": {"train": 1, "evaluate": 1},
                   "overrides": 1, "llm_accepted_share": 0.5}
