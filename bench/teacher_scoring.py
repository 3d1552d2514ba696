"""The teacher's labels by scoring every label against decoding a JSON answer, and a head
student from its probabilities against its labels, on development rows (train splits only).

For each task: 2 demonstrations per label drawn from the train split (seed 0, as bench.unseen
draws them), then from the other train rows (seed 1):
- `--n-label` rows labelled both ways by the teacher (`local:1.5b` by default): accuracy against
  the gold labels, seconds per row, and how often the two agree;
- `--n-soft` rows as unlabelled inputs, labelled by the teacher's distribution; a MiniLM head
  trained on the demonstrations plus these rows, with the argmax label (hard) or the
  temperature-scaled distribution (soft, `TrainConfig.soft_targets`), scored on `--n-dev` further
  train rows.
One JSON line per task, appended to bench/results/teacher_scoring.jsonl.

Decision rule, written before the first run:
- Scoring becomes the default for labelling and verification (`DataConfig.teacher_scoring`) if,
  on every task, its accuracy is at least decoding's - 0.02 and it takes fewer seconds per row.
- Soft targets become the default (`TrainConfig.soft_targets`) if the head's dev accuracy rises
  by at least +0.005 on the mean over tasks and falls by no more than 0.01 on any task.

    python -m bench.teacher_scoring --shared ../shared [--tasks sst2,trec] [--llm local:1.5b]
"""
from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from bench.record import append, commit  # noqa: E402
from bench.unseen import TASKS, demonstrations  # noqa: E402
from p2m.llm.factory import make_llm  # noqa: E402
from p2m.core.schemas import TaskSpec  # noqa: E402
from p2m.runfolder.data_store import read_jsonl  # noqa: E402
from p2m.tools.scoring.predictions import teacher_distributions, teacher_predict, top_label  # noqa: E402
from p2m.tools.training.head import accuracy, fit_linear  # noqa: E402


def dev_rows(train: list[dict], demos: list[dict], n: int) -> list[dict]:
    """`n` train rows that are not demonstrations, drawn at random (seed 1)."""
    shown = {d["input"] for d in demos}
    pool = [r for r in train if r["input"] not in shown]
    return random.Random(1).sample(pool, min(n, len(pool)))


def measure(name: str, shared: Path, llm_spec: str, n_label: int, n_soft: int, n_dev: int,
            code: str = "?") -> dict:
    train = read_jsonl(shared / "datasets" / name / "train.jsonl")
    demos = demonstrations(train, 2, 0)
    task = TaskSpec(instruction=TASKS[name], task_type="classification",
                    labels=sorted({r["output"] for r in train}), examples=demos)
    rows = dev_rows(train, demos, n_soft + n_dev)
    inputs, dev = rows[:n_soft], rows[n_soft:]
    llm = make_llm(llm_spec)
    labelled = inputs[:n_label]
    texts, gold = [r["input"] for r in labelled], [r["output"] for r in labelled]
    started = time.perf_counter()
    decoded, _ = teacher_predict(llm, task, texts, score=False)
    decode_s = (time.perf_counter() - started) / len(texts)
    started = time.perf_counter()
    dists = teacher_distributions(llm, task, [r["input"] for r in inputs])
    score_s = (time.perf_counter() - started) / len(inputs)
    scored = [top_label(d) for d in dists]

    def acc(preds: list[str], golds: list[str]) -> float:
        return round(sum(p == g for p, g in zip(preds, golds)) / len(golds), 4)

    demo_texts, demo_labels = [d["input"] for d in demos], [d["output"] for d in demos]
    kept = [i for i, d in enumerate(dists) if d]
    hard = fit_linear(demo_texts + [inputs[i]["input"] for i in kept], demo_labels + [scored[i] for i in kept])
    soft = fit_linear(demo_texts + [inputs[i]["input"] for i in kept], demo_labels + [scored[i] for i in kept],
                      soft=[None] * len(demos) + [dists[i] for i in kept])
    dev_texts, dev_gold = [r["input"] for r in dev], [r["output"] for r in dev]
    return {"bench": "teacher_scoring", "code": code, "task": name, "llm": llm_spec,
            "threads": os.environ.get("P2M_THREADS", "1"), "n_label": len(texts),
            "decode": {"accuracy": acc(decoded, gold), "s_per_row": round(decode_s, 3)},
            "score": {"accuracy": acc(scored[:n_label], gold), "s_per_row": round(score_s, 3),
                      "accuracy_all": acc(scored, [r["output"] for r in inputs])},
            "agree": acc(decoded, scored[:n_label]), "n_soft": len(kept), "n_dev": len(dev),
            "head_hard": round(accuracy(hard, dev_texts, dev_gold), 4),
            "head_soft": round(accuracy(soft, dev_texts, dev_gold), 4)}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--shared", default=str(Path(__file__).resolve().parents[2] / "shared"))
    p.add_argument("--tasks", default="sst2,trec")
    p.add_argument("--llm", default="local:1.5b")
    p.add_argument("--n-label", type=int, default=100, help="rows labelled both ways")
    p.add_argument("--n-soft", type=int, default=300, help="unlabelled inputs the head learns from")
    p.add_argument("--n-dev", type=int, default=500, help="dev rows the heads are scored on")
    p.add_argument("--results", default=str(Path(__file__).parent / "results" / "teacher_scoring.jsonl"))
    args = p.parse_args(argv)
    code = commit()  # the code that runs: read once, before the first task
    results = Path(args.results)
    results.parent.mkdir(parents=True, exist_ok=True)
    for name in args.tasks.split(","):
        if name not in TASKS:
            raise SystemExit(f"unknown task {name!r}; known: {', '.join(TASKS)}")
        line = measure(name, Path(args.shared), args.llm, args.n_label, max(args.n_soft, args.n_label),
                       args.n_dev, code)
        append(results, line)
        print(json.dumps(line), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
