"""How the verifier's agreement separates right rows from wrong ones, per free-text family, on
development rows (a dataset's TRAIN split; the test split stays for bench.unseen).

For each dataset: 3 demonstrations and `--n` other rows drawn at random (seed 1); the teacher
answers each row's input once, prompted as it verifies generated rows (`verifier_answers`);
that answer is scored against the row's gold output (a right row) and against the next row's
gold output (a wrong row) by the family's similarity (`tools/generation/verify.py`) and by exact match
(the rule before issue 34). One JSON line per dataset: the share of right and of wrong rows
kept at the family's threshold (`AGREE`) and at a grid of others, appended to
bench/results/verify_agreement.jsonl.

    python -m bench.verify_agreement --shared ../shared [--datasets conala_en,squad,wnut17_ner] [--n 40]
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

from p2m.llm.factory import make_llm, teacher_spec  # noqa: E402
from p2m.core.schemas import Example, TaskSpec  # noqa: E402
from p2m.runfolder.data_store import read_jsonl  # noqa: E402
from p2m.tools.generation.generate import verifier_answers  # noqa: E402
from p2m.tools.generation.verify import AGREE, similarity  # noqa: E402

# Written before any run: what a user would type for each dataset.
TASKS = {
    "conala_en": ("text2text", "Write the Python code that does what the English instruction says."),
    "squad": ("extractive_qa", "Answer the question with a span copied from the context."),
    "wnut17_ner": ("ner", "Tag the named entities (person, location, corporation, product, creative-work, "
                          "group) in a social media post."),
}
GRID = (0.2, 0.3, 0.4, 0.5, 0.6, 0.7)


def kept_share(values: list[float], at: float) -> float:
    return round(sum(v >= at for v in values) / len(values), 3) if values else 0.0


def measure(name: str, shared: Path, llm, n: int, seed: int) -> dict:
    family, instruction = TASKS[name]
    rows = random.Random(seed).sample(read_jsonl(shared / "datasets" / name / "train.jsonl"), n + 3)
    demos, rows = rows[:3], rows[3:]
    labels = ["person", "location", "corporation", "product", "creative-work", "group"] if family == "ner" else None
    task = TaskSpec(instruction=instruction, task_type=family, labels=labels,
                    examples=[{"input": d["input"], "output": d["output"]} for d in demos])
    started = time.perf_counter()
    answers = [(verifier_answers(task, llm, Example(input=r["input"], output=r["output"], source={"sample": i}), 1)
                or [""])[0] for i, r in enumerate(rows)]
    right = [similarity(task, a, r["output"]) for a, r in zip(answers, rows)]
    wrong = [similarity(task, a, rows[(i + 1) % len(rows)]["output"]) for i, a in enumerate(answers)]
    exact = [float(a.strip() == r["output"].strip()) for a, r in zip(answers, rows)]
    return {"dataset": name, "family": family, "n": len(rows), "threshold": AGREE[family],
            "right_kept": kept_share(right, AGREE[family]), "wrong_kept": kept_share(wrong, AGREE[family]),
            "right_kept_exact_match": kept_share(exact, 1.0),
            "mean_right": round(sum(right) / len(right), 3), "mean_wrong": round(sum(wrong) / len(wrong), 3),
            "grid": {str(t): [kept_share(right, t), kept_share(wrong, t)] for t in GRID},
            "s_per_row": round((time.perf_counter() - started) / len(rows), 2)}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--shared", default=str(Path(__file__).resolve().parents[2] / "shared"))
    p.add_argument("--datasets", default="conala_en,squad,wnut17_ner")
    p.add_argument("--n", type=int, default=40)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--llm", default="local", help="the run's LLM; its teacher verifies (agent/factory.teacher_spec)")
    p.add_argument("--results", default=str(Path(__file__).parent / "results" / "verify_agreement.jsonl"))
    args = p.parse_args(argv)
    from bench.record import append, commit

    spec = teacher_spec(args.llm)
    llm = make_llm(spec)
    for name in args.datasets.split(","):
        if name not in TASKS:
            raise SystemExit(f"unknown dataset {name!r}; known: {', '.join(TASKS)}")
        line = {"bench": "verify_agreement", "code": commit(), "llm": spec,
                **measure(name, Path(args.shared), llm, args.n, args.seed)}
        append(args.results, line)
        print(json.dumps(line), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
