"""Does the LLM planner's decisions count? Guard acceptance and end metric against the policy.

For each task of bench.unseen (its own data withheld from the catalog, 2 demonstrations per
label, default budgets): one run planned by the LLM (`planner="llm"`) and one by the default
policy (`planner="policy"`), both scored on the same 500 gold test rows. Per run: planner
decisions by author (llm / policy fallback / budget) and by tool, the share of the LLM's
decisions the guard accepted, the guard's overrides, LLM calls, wall time, and the student's
metric. `--traces RUN_DIR ...` only summarises the decisions of existing runs.
Targets (issue 20): >= 90% of decisions accepted; the LLM-planned run at least as good as the
policy on every task and better on at least one.

    python -m bench.planner --shared ../shared [--tasks sst2,agnews,trec] [--llm local]
    python -m bench.planner --traces runs/a runs/b
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections import Counter
from pathlib import Path


def decisions(run_dir: Path) -> dict:
    """Planner decisions of one run, from its trace."""
    events = [json.loads(line) for line in (Path(run_dir) / "trace.jsonl").read_text().splitlines()
              if line.strip()]
    made = [e for e in events if e.get("kind") == "decision"]
    by = Counter((e.get("summary") or {}).get("by") for e in made)
    llm_tools = Counter(e.get("tool") for e in made if (e.get("summary") or {}).get("by") == "llm")
    overrides = [e for e in events if e.get("kind") == "override"]
    overridden_llm = sum(1 for e in overrides if e.get("summary", {}).get("proposed"))
    llm = by.get("llm", 0)
    return {"decisions": dict(by), "llm_tools": dict(llm_tools), "overrides": len(overrides),
            "llm_accepted_share": round(1 - min(overridden_llm, llm) / llm, 3) if llm else None}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--traces", nargs="*", help="only summarise these runs' decisions")
    p.add_argument("--shared", default=str(Path(__file__).resolve().parents[2] / "shared"))
    p.add_argument("--tasks", default="sst2,agnews,trec")
    p.add_argument("--limit", type=int, default=500)
    p.add_argument("--llm", default="local")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", help="folder for the runs (default: a new temporary folder)")
    p.add_argument("--planners", default="llm,policy",
                   help="which runs to make: `llm` alone when the policy's run of the same code, "
                        "task and writer is already measured (its figures are printed separately)")
    args = p.parse_args(argv)
    if args.traces:
        runs = {str(r): decisions(Path(r)) for r in args.traces}
        llm = sum(r["decisions"].get("llm", 0) for r in runs.values())
        accepted = sum(round((r["llm_accepted_share"] or 0) * r["decisions"].get("llm", 0))
                       for r in runs.values())
        print(json.dumps({"runs": runs, "llm_decisions": llm, "accepted": accepted,
                          "accepted_share": round(accepted / llm, 3) if llm else None}))
        return 0
    from bench.unseen import TASKS, run_task

    out = Path(args.out or tempfile.mkdtemp(prefix="p2m-planner-"))
    out.mkdir(parents=True, exist_ok=True)
    tasks = {}
    for name in args.tasks.split(","):
        if name not in TASKS:
            raise SystemExit(f"unknown task {name!r}; known: {', '.join(TASKS)}")
        pair = {}
        for planner in args.planners.split(","):
            result = run_task(name, Path(args.shared), out, args.llm, args.limit, args.seed, planner=planner)
            pair[planner] = {"student": result["student"], "published": result["published"],
                             "demonstrations_only": result["demonstrations_only"],
                             "teacher": result["teacher"], "llm_calls": result["llm_calls"],
                             "wall_s": result["wall_s"], **decisions(out / f"run-{name}-seed{args.seed}-{planner}")}
            print(json.dumps({name: {planner: pair[planner]}}), file=sys.stderr, flush=True)
        if "llm" in pair and "policy" in pair:
            pair["llm_minus_policy"] = round(pair["llm"]["student"] - pair["policy"]["student"], 4)
        tasks[name] = pair
    shares = [t["llm"]["llm_accepted_share"] for t in tasks.values()
              if "llm" in t and t["llm"]["llm_accepted_share"] is not None]
    diffs = [t["llm_minus_policy"] for t in tasks.values() if "llm_minus_policy" in t]
    print(json.dumps({"llm": args.llm, "out": str(out), "tasks": tasks,
                      "target_met": bool(shares) and bool(diffs) and min(shares) >= 0.9 and
                      min(diffs) >= 0 and max(diffs) > 0}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
