"""End-to-end runs on tasks whose own data is withheld, scored on their real test split.

For each task and seed: a catalog of ../shared/datasets *minus the task's dataset*, a task
file with 2 demonstrations per label drawn at random from the train split (the seed), one
`p2m run` with the given LLM, the default budgets and the seed as the run's seed, then, on
`--limit` test rows drawn at random (seed 0 for every seed, so all seeds read the same rows;
some test files are sorted by label; a test row that is also a demonstration is dropped and
counted), three models a user could have:
- the best student p2m selected (and the published model, when that is the baseline),
- the demonstrations-only baseline (MiniLM embeddings + logistic regression on the demos),
- the teacher LLM the run used (`RunConfig.teacher`), prompted with the same demonstrations;
- the cascade: the published model with its fitted threshold, the teacher answering the rest
  (its metric, the share sent to the teacher, and the disagreement of the rows answered alone).
Each seed's JSON line is appended to `--results` (bench/results/unseen.jsonl) with the commit;
the last line printed is the mean and spread over seeds per task.

    python -m bench.unseen --shared ../shared [--tasks sst2,agnews,trec] [--limit 500] [--seeds 0,1,2]
        [--sources generated]   # no catalog: generated rows and demonstrations only
        [--model all-mpnet-base-v2] [--classifier auto|head|finetune]   # the student's settings
        [--finetune-rival]   # TrainConfig.finetune_rival: fine-tune a rival encoder whose head won
        [--unlabelled 300]   # inputs of the train split, labels withheld: the user's own texts
        [--calibrate 200]    # then p2m calibrate on 200 more: the cascade's threshold needs 149+
    python -m bench.unseen --tasks trec_fine   # 11 close answer types no setting was tuned on
    python -m bench.unseen --tasks squad,wnut17_ner,conala_en   # the other families (issue 34):
        # their own metric (SQuAD F1, entity F1, chrF++), kept/asked per generation round
    python -m bench.unseen --tasks bench/tasks/pandas.yaml,bench/tasks/dates.yaml
        # task files no run has read: FAMILY_DEMOS of their demonstrations drawn with the seed
        # (generation is deterministic given the demonstrations, so a file of only 4 would give
        # every seed the same rows), the gold rows in NAME.gold.jsonl beside each file as the
        # test, every shared dataset in the catalog
"""
from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from bench.record import append, commit  # noqa: E402
from p2m.calibrate import calibrate_run  # noqa: E402
from p2m.llm.factory import make_llm  # noqa: E402
from p2m.core.config import CLASSIFIERS, RunConfig, TrainConfig  # noqa: E402
from p2m.runner import start  # noqa: E402
from p2m.core.schemas import Example, TaskSpec  # noqa: E402
from p2m.runfolder.data_store import DataStore, read_jsonl  # noqa: E402
from p2m.tools.data.task import load_task_file  # noqa: E402
from p2m.tools.scoring.cascade import cascade_answers, routed  # noqa: E402
from p2m.tools.scoring.predictions import teacher_predict  # noqa: E402
from p2m.tools.training.head import is_head, load_head  # noqa: E402
from p2m.tools.families.classification.model import head_name  # noqa: E402
from p2m.tools.families import fit_baseline, predict_baseline, predict_for, score_for  # noqa: E402
from p2m.tools.families.ner.metric import parse_entities  # noqa: E402

# Written before any run: what a user would type for each task.
TASKS = {
    "sst2": "Classify the sentiment of a movie review sentence as positive or negative.",
    "agnews": "Sort news articles into one of four topics: World, Sports, Business or Sci/Tech.",
    "trec": "Classify a question by the type of answer it expects: abbreviation, description, "
            "entity, human, location or numeric.",
}

# The other families (issue 34), written before any run: what a user would type.
FAMILY_TASKS = {
    "squad": ("extractive_qa", "Answer the question about the passage with a span copied from the passage."),
    "wnut17_ner": ("ner", "Find the named entities in a social media post: people, locations, companies, "
                          "products, creative works and groups."),
    "conala_en": ("text2text", "Write the Python code that does what the English instruction says."),
}
FAMILY_DEMOS = 4  # demonstrations for a task without labels (drawn at random with the seed)

# A task no setting was tuned on (issue 32's review), written before any run: TREC's fine answer
# types with close labels (a city or another place, a date, a distance or another number). The
# labels are the fine types with at least 10 rows in TREC's test split (11 of 42), chosen from
# the label counts alone; rows of the other types are left out of both splits. Its source
# dataset (trec) is withheld from the catalog like a task's own.
DERIVED_TASKS = {
    "trec_fine": ("trec", "fine_label", {
        "DESC:def": "definition", "ENTY:animal": "animal", "ENTY:color": "color",
        "ENTY:other": "other entity", "ENTY:substance": "substance", "HUM:ind": "person",
        "LOC:city": "city", "LOC:other": "other place", "NUM:date": "date", "NUM:dist": "distance",
        "NUM:other": "other number"},
        "Classify a question by the exact kind of answer it asks for: a definition, an animal, a "
        "color, a substance, another kind of entity, a person, a city, another place, a date, a "
        "distance or another number."),
}


def known_tasks() -> list[str]:
    return [*TASKS, *DERIVED_TASKS, *FAMILY_TASKS]


def is_task_file(name: str) -> bool:
    return name.endswith((".yaml", ".yml", ".json"))


def gold_file(task_file: str) -> Path:
    """A task file's gold rows: NAME.gold.jsonl beside NAME.yaml."""
    path = Path(task_file)
    return path.with_name(f"{path.name.rsplit('.', 1)[0]}.gold.jsonl")


def slug(name: str) -> str:
    """A task's name in file names (a task file's stem)."""
    return Path(name).stem if is_task_file(name) else name


def source_dataset(name: str) -> str:
    """The shared dataset folder a task's rows come from (its own name, but for a derived task;
    none for a task file, whose gold rows lie beside it)."""
    if is_task_file(name):
        return ""
    return DERIVED_TASKS[name][0] if name in DERIVED_TASKS else name


def task_rows(shared: Path, name: str, split: str) -> list[dict]:
    """The task's rows of `split`: a dataset's as they are, a derived task's with the field it
    reads mapped to its label names and the rows of other labels left out; a task file has no
    train rows and its gold rows as the test."""
    if is_task_file(name):
        if split != "test":
            return []
        if not gold_file(name).is_file():
            raise SystemExit(f"{name}: no gold rows to score on; write them to {gold_file(name)}")
        return read_jsonl(gold_file(name))
    rows = read_jsonl(shared / "datasets" / source_dataset(name) / f"{split}.jsonl")
    if name not in DERIVED_TASKS:
        return rows
    _, field, names, _ = DERIVED_TASKS[name]
    return [{"input": r["input"], "output": names[r[field]]} for r in rows if r.get(field) in names]


def demonstrations(rows: list[dict], per_label: int, seed: int) -> list[dict]:
    by_label: dict[str, list[dict]] = {}
    for r in rows:
        by_label.setdefault(r["output"], []).append(r)
    rng = random.Random(seed)
    return [{"input": r["input"], "output": r["output"]}
            for label in sorted(by_label) for r in rng.sample(by_label[label], per_label)]


def catalog_without(shared: Path, name: str, root: Path) -> Path:
    """A catalog folder holding every shared dataset but `name` (as symbolic links)."""
    root.mkdir(parents=True, exist_ok=True)
    for d in sorted((shared / "datasets").iterdir()):
        if d.is_dir() and d.name != name and not (root / d.name).exists():
            (root / d.name).symlink_to(d.resolve())
    return root


def by_source(run: Path) -> dict[str, int]:
    counts: Counter[str] = Counter()
    for e in DataStore(run).all():
        if e.split == "test":
            continue
        kind = e.source.get("kind", "?")
        if kind == "dataset":
            kind = f"dataset:{e.source.get('name')}" + (" (relabelled)" if "relabelled_by" in e.source else "")
        counts[f"{kind}/{e.split}"] += 1
    return dict(counts)


def run_config(llm_spec: str, catalog: list[str], planner: str = "auto", model: str | None = None,
               classifier: str = "auto", seed: int = 0, finetune_rival: bool = False) -> RunConfig:
    """The run's settings: the defaults, but for what the bench's flags name; the bench's seed
    shifts the run's seed (generation, training), 0 keeping the default."""
    train = TrainConfig(classifier=classifier, seed=TrainConfig().seed + seed, finetune_rival=finetune_rival)
    return RunConfig(llm=llm_spec, catalog=catalog, planner=planner, model=model, train=train)


def unlabelled_inputs(rows: list[dict], exclude: list[str], n: int, seed: int) -> list[str]:
    """`n` inputs of the task's TRAIN split drawn at random (seed 1000 + the bench's seed), their
    labels withheld, none equal to a demonstration or a test row: the user's own unlabelled texts
    (an inbox, a log), which the run's teacher labels."""
    seen = {t.strip().lower() for t in exclude}
    pool = sorted({r["input"] for r in rows if r["input"].strip().lower() not in seen})
    return random.Random(1000 + seed).sample(pool, min(n, len(pool)))


def student_kind(model_dir: str) -> str:
    """"head:<encoder>" for a head student (which encoder's head won validation), "finetuned"
    for fine-tuned MiniLM (a BERT), "finetuned:<model type>" for another fine-tuned encoder."""
    if is_head(model_dir):
        return head_name(load_head(model_dir))
    config = Path(model_dir) / "config.json"
    model_type = json.loads(config.read_text()).get("model_type") if config.is_file() else None
    return "finetuned" if model_type in (None, "bert") else f"finetuned:{model_type}"


def calibrate_more(run_dir: Path, train: list[dict], exclude: list[str], n: int, seed: int,
                   teacher: object) -> dict:
    """`p2m calibrate` as a user with more texts would run it: `n` more train-split inputs (none a
    demonstration, a test row or one the run was given; seed 1500 + the bench's seed), labelled by
    the run's teacher, refit the published model's threshold with the run's held-out rows."""
    texts = unlabelled_inputs(train, exclude, n, 500 + seed)
    started = time.perf_counter()
    fitted = calibrate_run(run_dir, texts, n=n, teacher=teacher)
    return {**{k: fitted.get(k) for k in ("threshold", "answered_alone", "n", "upper_bound", "reason")},
            "texts_given": len(texts), "calibrate_s": round(time.perf_counter() - started, 1)}


def build_task(name: str, train: list[dict], seed: int, unlabelled: list[str] | None = None) -> TaskSpec:
    """The task a user would write for a benchmark dataset: its instruction, demonstrations drawn
    with the seed (2 per label for classification, FAMILY_DEMOS rows otherwise) and, for NER,
    the entity types its rows use."""
    if is_task_file(name):
        task = load_task_file(name)
        if task.test:
            raise SystemExit(f"{name}: the run would see its test rows; move them to {gold_file(name)}")
        n = len(task.examples)  # the drawn demonstrations in the file's order
        shown = [task.examples[i] for i in sorted(random.Random(seed).sample(range(n), min(FAMILY_DEMOS, n)))]
        return task.model_copy(update={"examples": shown, "unlabelled": unlabelled or []})
    if name in TASKS or name in DERIVED_TASKS:
        instruction = TASKS[name] if name in TASKS else DERIVED_TASKS[name][3]
        return TaskSpec(instruction=instruction, task_type="classification",
                        labels=sorted({r["output"] for r in train}),
                        examples=demonstrations(train, 2, seed), unlabelled=unlabelled or [])
    if name not in FAMILY_TASKS:
        raise SystemExit(f"unknown task {name!r}; known: {', '.join(known_tasks())}")
    family, instruction = FAMILY_TASKS[name]
    demos = random.Random(seed).sample(train, FAMILY_DEMOS)
    labels = sorted({kind for r in train for kind, _ in parse_entities(r["output"])}) if family == "ner" else None
    return TaskSpec(instruction=instruction, task_type=family, labels=labels,
                    examples=[{"input": d["input"], "output": d["output"]} for d in demos],
                    unlabelled=unlabelled or [])


def generation_rounds(run: Path) -> list[dict]:
    """Each generation round of a run: rows asked, kept, and kept/asked, from its trace."""
    rounds = []
    for line in (run / "trace.jsonl").read_text(encoding="utf-8").splitlines():
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            continue
        summary = event.get("summary") or {}
        if event.get("kind") == "tool" and event.get("tool") == "generate_examples" and summary.get("asked"):
            rounds.append({"asked": summary["asked"], "kept": summary.get("kept", 0),
                           "kept_share": round(summary.get("kept", 0) / summary["asked"], 3),
                           "dropped": summary.get("dropped", {})})
    return rounds


def test_rows(rows: list[dict], demos: list[dict], limit: int) -> tuple[list[dict], int]:
    """`limit` rows drawn at random (seed 0, the same for every seed) with the demonstrations
    dropped from them, and how many were dropped."""
    drawn = random.Random(0).sample(rows, min(limit, len(rows)))
    shown = {d["input"].strip().lower() for d in demos}
    kept = [r for r in drawn if r["input"].strip().lower() not in shown]
    return kept, len(drawn) - len(kept)


FIGURES = ("student", "published", "demonstrations_only", "teacher", "gap_vs_teacher", "wall_s",
           "cascade", "sent_to_teacher")


def figure(line: dict, key: str) -> Any:
    """One seed's figure (the cascade's under its own key), or None."""
    if key in ("cascade", "sent_to_teacher"):
        value = (line.get("cascade") or {}).get("value" if key == "cascade" else key)
    else:
        value = line.get(key)
    return value if isinstance(value, (int, float)) else None


def summary(per_seed: list[dict]) -> dict:
    """Mean and spread (sample standard deviation, min, max) over seeds of each figure."""
    from statistics import mean, stdev

    out = {}
    for key in FIGURES:
        values = [v for v in (figure(r, key) for r in per_seed) if v is not None]
        if values:
            out[key] = {"mean": round(mean(values), 4), "sd": round(stdev(values), 4) if len(values) > 1 else 0.0,
                        "min": min(values), "max": max(values), "n": len(values)}
    return out


def cascade_figures(model_dir: Path, texts: list[str], teacher_preds: list[str], score: Any) -> dict:
    """The published model with its fitted threshold, the teacher answering the rows below it:
    its metric, the share sent to the teacher, and how often the rows it answered alone
    disagree with the teacher (the bound it was fitted to keep)."""
    labels, _, alone, fitted = routed(model_dir, texts)
    mixed, sent = cascade_answers(labels, teacher_preds, alone)
    n_alone = sum(alone)
    return {"value": round(score(mixed), 4), "sent_to_teacher": sent,
            "threshold": fitted.get("threshold"), "budget": fitted.get("budget"),
            "disagree_alone": round(sum(a and p != t for p, t, a in zip(labels, teacher_preds, alone))
                                    / n_alone, 4) if n_alone else None}


def point_estimates_choice(report: dict, student: float | None, baseline: float) -> tuple[str | None, float | None]:
    """What the gold point estimates alone would have published ("student" | "baseline", from
    the run's report) and its figure on the bench's gold rows: the publish rule's step 3 is read
    against them on the same runs (docs/evaluation.md)."""
    point = (report.get("estimate") or {}).get("point_estimates")
    if point is None:
        return None, None
    return point, student if point == "student" and student is not None else baseline


def peak_rss_gb() -> float:
    """Peak resident memory of this process so far, in GB (the run happens in process)."""
    import resource

    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e9, 2)  # Linux: KiB


def run_task(name: str, shared: Path, out: Path, llm_spec: str, limit: int, seed: int,
             sources: str = "all", planner: str = "auto", model: str | None = None,
             classifier: str = "auto", n_unlabelled: int = 0, n_calibrate: int = 0,
             finetune_rival: bool = False) -> dict:
    train = task_rows(shared, name, "train")
    demos = build_task(name, train, seed).model_dump()["examples"]
    rows, dropped = test_rows(task_rows(shared, name, "test"), demos, limit)
    unlabelled = unlabelled_inputs(train, [d["input"] for d in demos] + [r["input"] for r in rows],
                                   n_unlabelled, seed) if n_unlabelled else []
    task = build_task(name, train, seed, unlabelled)
    gold = [Example(input=r["input"], output=r["output"], split="test", source={"kind": "bench"})
            for r in rows]
    texts, golds = [e.input for e in gold], [e.output for e in gold]

    answers = [r.get("answers") or None for r in rows]  # SQuAD: every annotator's answer counts

    def score(preds: list[str]) -> float:
        return score_for(task, preds, golds, texts, answers if all(answers) else None).value

    task_file = out / f"{slug(name)}-seed{seed}.yaml"
    task_file.write_text(json.dumps(task.model_dump(exclude={"test"}), ensure_ascii=False))
    catalog = [str(catalog_without(shared, source_dataset(name), out / f"catalog-{slug(name)}"))] \
        if sources == "all" else []
    config = run_config(llm_spec, catalog, planner, model, classifier, seed, finetune_rival)
    run_dir = out / (f"run-{slug(name)}-seed{seed}" if planner == "auto" else f"run-{slug(name)}-seed{seed}-{planner}")
    started = time.perf_counter()
    report = start(None, str(task_file), config, run_dir, progress=False)
    wall = time.perf_counter() - started
    peak_gb = peak_rss_gb()  # the run's process: search, labelling, generation, training, scoring
    selection = json.loads((run_dir / "selection.json").read_text()) \
        if (run_dir / "selection.json").exists() else {"published": {"kind": "baseline"}}
    best = selection.get("best_student")
    student = score(predict_for(task, best["path"], texts)) if best else None
    published = score(predict_for(task, run_dir / "model", texts))
    baseline = score(predict_baseline(fit_baseline(task, [Example(**d, source={"kind": "user"})
                                                          for d in demos]), texts))
    teacher_llm = make_llm(config.teacher or llm_spec)
    calibration = calibrate_more(run_dir, train, [d["input"] for d in demos] + texts + unlabelled,
                                 n_calibrate, seed, teacher_llm) if n_calibrate and task.label_set else None
    t0 = time.perf_counter()
    teacher_preds = teacher_predict(teacher_llm, task, texts)[0]
    teacher = score(teacher_preds)
    cascade = cascade_figures(run_dir / "model", texts, teacher_preds, score) if task.label_set else None
    mine = student if student is not None else published
    point, by_points = point_estimates_choice(report, student, baseline)
    return {"seed": seed, "student": None if student is None else round(student, 4),
            "published": round(published, 4), "published_kind": selection["published"]["kind"],
            "point_estimates_kind": point, "point_estimates_published": None if by_points is None
            else round(by_points, 4),
            "demonstrations_only": round(baseline, 4), "teacher": round(teacher, 4),
            "gap_vs_teacher": round(mine - teacher, 4), "cascade": cascade,
            "gap_vs_best_baseline": round(mine - max(baseline, teacher), 4),
            "family": task.task_type, "generation_rounds": generation_rounds(run_dir),
            "n_test": len(gold), "test_rows_dropped_as_demonstrations": dropped,
            "n_unlabelled_given": len(unlabelled), "calibration": calibration,
            "student_kind": student_kind(best["path"]) if best else None,
            "n_train_by_source": by_source(run_dir),
            "run_estimate": {"metric": report.get("metric"), "estimate": report.get("estimate"),
                             "test": report.get("test"), "baselines": report.get("baselines")},
            "llm_calls": report.get("llm_calls"), "iterations": report.get("iterations"),
            "stop_reason": report.get("stop_reason"), "wall_s": round(wall, 1), "peak_rss_gb": peak_gb,
            "teacher_s": round(time.perf_counter() - t0, 1)}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--shared", default=str(Path(__file__).resolve().parents[2] / "shared"))
    p.add_argument("--tasks", default="sst2,agnews,trec")
    p.add_argument("--limit", type=int, default=500, help="test rows per task (seeded random draw)")
    p.add_argument("--llm", default="local")
    p.add_argument("--seeds", default="0,1,2", help="comma-separated: other demonstrations and run seed per seed")
    p.add_argument("--out", help="folder for the runs (default: a new temporary folder)")
    p.add_argument("--results", default=str(Path(__file__).parent / "results" / "unseen.jsonl"),
                   help="each seed's JSON line is appended here")
    p.add_argument("--sources", choices=("all", "generated"), default="all",
                   help="generated: no catalog, the student learns from generated rows and demonstrations")
    p.add_argument("--model", help="force the student model (e.g. all-mpnet-base-v2); default: the run's choice")
    p.add_argument("--classifier", choices=CLASSIFIERS, default="auto",
                   help="how the classification student is trained (TrainConfig.classifier)")
    p.add_argument("--finetune-rival", action="store_true",
                   help="fine-tune a rival encoder whose head wins validation (TrainConfig.finetune_rival)")
    p.add_argument("--calibrate", type=int, default=0,
                   help="after each run, label this many more train-split inputs with the teacher and "
                        "refit the cascade's threshold on them (p2m calibrate)")
    p.add_argument("--unlabelled", type=int, default=0,
                   help="give the run this many inputs of the task's train split, labels withheld "
                        "(the user's unlabelled texts; the teacher labels them)")
    args = p.parse_args(argv)
    shared = Path(args.shared)
    out = Path(args.out or tempfile.mkdtemp(prefix="p2m-unseen-"))
    out.mkdir(parents=True, exist_ok=True)
    results_file = Path(args.results)
    results_file.parent.mkdir(parents=True, exist_ok=True)
    seeds = [int(s) for s in args.seeds.split(",")]
    code = commit()
    results: dict[str, list[dict]] = {}
    for name in args.tasks.split(","):
        if name not in known_tasks() and not is_task_file(name):
            raise SystemExit(f"unknown task {name!r}; known: {', '.join(known_tasks())}")
        for seed in seeds:
            line = run_task(name, shared, out, args.llm, args.limit, seed, args.sources,
                            model=args.model, classifier=args.classifier, n_unlabelled=args.unlabelled,
                            n_calibrate=args.calibrate, finetune_rival=args.finetune_rival)
            results.setdefault(name, []).append(line)
            record = {"bench": "unseen", "code": code, "task": name, "llm": args.llm, "sources": args.sources,
                      "model": args.model, "classifier": args.classifier, "unlabelled": args.unlabelled,
                      "calibrate": args.calibrate, "finetune_rival": args.finetune_rival, **line}
            append(results_file, record)
            print(json.dumps(record), file=sys.stderr, flush=True)
    tasks = {name: summary(lines) for name, lines in results.items()}
    print(json.dumps({"bench": "unseen", "code": code, "llm": args.llm, "sources": args.sources,
                      "model": args.model, "classifier": args.classifier, "unlabelled": args.unlabelled, "seeds": seeds, "out": str(out),
                      "tasks": tasks,
                      "target_met": all(t.get("gap_vs_teacher", {}).get("mean", -1) >= -0.02 for t in tasks.values())
                      and any(t.get("gap_vs_teacher", {}).get("mean", -1) > 0 for t in tasks.values())}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
