"""The deterministic default policy: the planner with `--llm none`, and the guard's fallback.

It asks the registered tools in the registry's order what each would do now (`ToolSpec.suggest`)
and takes the first suggestion; `finish` comes last and always has one (why the run ends)."""
from __future__ import annotations

from typing import Any

from p2m.runfolder.context import RunContext
from p2m.tools.specs import REGISTRY


def default_step(state: dict[str, Any], ctx: RunContext) -> dict[str, Any]:
    """The next sensible tool call, with the reason, from the state alone."""
    for name, spec in REGISTRY.items():
        suggestion = spec.suggest(state, ctx)
        if suggestion is not None:
            args, reason = suggestion
            return {"tool": name, "args": args, "reason": reason, "by": "policy"}
    raise RuntimeError("no registered tool suggests a step: the registry has lost `finish`")
