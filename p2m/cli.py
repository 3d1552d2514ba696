"""`p2m`: a thin command line over the library API in p2m.runner."""
from __future__ import annotations

import argparse
import contextlib
import json
import sys
from pathlib import Path
from typing import Optional

from p2m.core.config import RunConfig
from p2m.config_flags import add_setting_flags, apply_setting_flags
from p2m.core.files import RedactingStream, add_secret
from p2m.runfolder.rundir import RunDir
from p2m.llm.factory import default_spec, LLMSpecError
from p2m.runner import default_run_dir, start, resume, RunError
from p2m.runfolder.trace import read_trace
from p2m.trace_view import render_step, render_timeline, step_detail
from p2m.scoring import score_run
from p2m.data_view import browse
from p2m.errors_view import errors, render as render_errors
from p2m.calibrate import calibrate_run
from p2m.fork import fork_point, fork_run
from p2m.compare import compare_runs, render as render_compare
from p2m.live import follow
from p2m.tools.data.task import load_task_file
from p2m.tools.data.task import read_unlabelled
from p2m.tools.scoring.export import export_onnx
from p2m.tools.families import train_for
from p2m.ui import build_app, launch
from p2m.doctor import diagnose
from p2m.predict import predict_texts
from p2m.serve import serve as serve_run
from p2m.llm_server import serve
from p2m.core.schemas import TaskSpecError
from p2m.tools.retrieval.catalog import DatasetError


def _config(args: argparse.Namespace) -> RunConfig:
    cfg = RunConfig(llm=args.llm or default_spec(), catalog=args.catalog or [],
                    model=args.model, hub=args.hub, model_catalog=args.model_catalog or [],
                    test_file=args.test, teacher=args.teacher, planner=getattr(args, "planner", "auto"))
    return apply_setting_flags(args, cfg)


def cmd_run(args: argparse.Namespace) -> int:
    if bool(args.prompt) == bool(args.task_file):
        raise SystemExit("p2m run: give either a PROMPT or --task-file, not both or neither")
    with contextlib.redirect_stdout(sys.stderr):  # progress and library chatter: stderr only
        report = start(args.prompt, args.task_file, _config(args), args.out or default_run_dir(),
                       progress=not args.quiet, unlabelled_file=args.unlabelled)
    print(json.dumps(report, indent=2))
    return 0


def cmd_resume(args: argparse.Namespace) -> int:
    with contextlib.redirect_stdout(sys.stderr):
        report = resume(args.run, progress=not args.quiet)
    print(json.dumps(report, indent=2))
    return 0


def cmd_fork(args: argparse.Namespace) -> int:
    try:
        then_args = json.loads(args.then_args) if args.then_args else {}
    except json.JSONDecodeError as exc:
        raise ValueError(f"--then-args is not JSON ({exc.msg}): e.g. '{{\"n\": 50}}'") from None
    if not isinstance(then_args, dict):
        raise ValueError("--then-args must be a JSON object, e.g. '{\"n\": 50}'")
    task = load_task_file(args.task_file) if args.task_file else None
    at = fork_point(args.run, args.at)
    out = fork_run(args.run, at, args.out, task=task, settings=args.set or [],
                   then=(args.then, then_args) if args.then else None)
    print(f"forked {args.run} before step {at} into {out}", file=sys.stderr)
    if args.no_run:
        print(json.dumps({"run": str(out), "next": f"p2m resume {out}"}))
        return 0
    return cmd_resume(argparse.Namespace(run=str(out), quiet=args.quiet))


def cmd_compare(args: argparse.Namespace) -> int:
    result = compare_runs(args.runs)
    if args.json:
        print(json.dumps(result, ensure_ascii=False, default=str))
    else:
        render_compare(result)
    return 0


def cmd_trace(args: argparse.Namespace) -> int:
    trace = RunDir(args.run).trace_path
    if not trace.exists():
        raise SystemExit(f"p2m trace: {args.run} has no trace.jsonl")
    if args.follow:
        follow(args.run)
        return 0
    if args.step is not None:
        if args.json:
            print(json.dumps(step_detail(args.run, args.step), ensure_ascii=False, default=str))
        else:
            render_step(args.run, args.step)
        return 0
    if args.json:
        skipped: list[int] = []
        for event in read_trace(trace, skipped):
            print(json.dumps(event, ensure_ascii=False))
        if skipped:
            print(f"p2m trace: {len(skipped)} line(s) of {trace} are not events: "
                  f"{', '.join(map(str, skipped[:10]))}", file=sys.stderr)
    else:
        render_timeline(args.run)
    return 0


def cmd_data(args: argparse.Namespace) -> int:
    rows = browse(args.run, args.split, args.source, args.output, args.dropped, args.limit, args.step)
    for row in rows:
        if args.json:
            print(json.dumps(row, ensure_ascii=False))
        else:
            where = f"{row['split']}/{row['kind']}"
            step = "-" if row["step"] is None else row["step"]
            print(f"#{row['n']:<5} step {step!s:<3} {where:<22} {row['output'][:30]!s:<30} {row['input'][:90]}")
            print(f"       {json.dumps(row['provenance'], ensure_ascii=False)[:200]}")
    if not args.json:
        print(f"{len(rows)} row(s)", file=sys.stderr)
    return 0


def cmd_errors(args: argparse.Namespace) -> int:
    if args.json:
        print(json.dumps(errors(args.run, args.worst), ensure_ascii=False))
    else:
        print("\n".join(render_errors(args.run, args.worst)))
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    print(json.dumps(score_run(args.run, args.data, limit=args.limit, with_teacher=not args.no_teacher)))
    return 0


def cmd_calibrate(args: argparse.Namespace) -> int:
    texts = read_unlabelled(args.file) if args.file else None
    print(json.dumps(calibrate_run(args.run, texts, n=args.n)))
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    if args.text is not None:
        texts = [args.text]
    else:
        source = open(args.file, encoding="utf-8") if args.file else sys.stdin
        with source:
            lines = [line.rstrip("\n") for line in source if line.strip()]
        texts = [_text_of(line, n) for n, line in enumerate(lines, start=1)]
    for row in predict_texts(args.run, texts, fallback=not args.no_fallback):
        print(json.dumps(row, ensure_ascii=False))
    return 0


def _text_of(line: str, n: int) -> str:
    """A JSONL row's "input" (or "text"), or the line itself when it is not a JSON object."""
    try:
        row = json.loads(line)
    except (json.JSONDecodeError, RecursionError):
        return line
    if isinstance(row, dict):
        text = row.get("input", row.get("text"))
        if not isinstance(text, str):
            raise ValueError(f"line {n}: a JSON row needs its text under 'input' or 'text'")
        return text
    return line


def cmd_serve(args: argparse.Namespace) -> int:
    serve_run(args.run, host=args.host, port=args.port, api_key=args.api_key, fallback=not args.no_fallback)
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    run = RunDir(args.run).require()
    model = run.require_model()
    if not (model / "config.json").is_file():
        raise ValueError(f"{run.path}'s published model is logistic regression on frozen sentence "
                         "embeddings (the demonstrations-only baseline or a head student): nothing "
                         "to export as ONNX; `p2m eval` and `p2m demo` run it")
    out = Path(args.out) if args.out else run.file("export", "model.onnx")
    print(json.dumps(export_onnx(model, out, run.task().task_type)))
    return 0


def cmd_chat(args: argparse.Namespace) -> int:
    from p2m.chat import chat

    out = args.resume or args.out or str(default_run_dir())
    config = apply_setting_flags(args, RunConfig(llm=args.llm or default_spec(), catalog=args.catalog or [],
                                                 model=args.model))
    with contextlib.redirect_stdout(sys.stderr) if args.quiet else contextlib.nullcontext():
        report = chat(out, config, resume=bool(args.resume))
    if report is not None:
        print(json.dumps(report, indent=2))
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    """Train a run's chosen model on its data; runs as is under torchrun / accelerate launch."""
    from dataclasses import replace

    run = RunDir(args.run).require()
    task, config, choice = run.task(), run.config(), run.model_choice()
    cfg = replace(config.train, epochs=args.epochs) if args.epochs else config.train
    store = run.store
    rows, val = store.split("train"), store.split("validation")
    out = Path(args.out) if args.out else run.file("train", f"dist-n{len(rows)}-e{cfg.epochs:g}")
    result = train_for(task, choice["path"], rows, out, cfg, progress=not args.quiet, val_rows=val or None)
    # One write per line: under torchrun every rank shares this stdout, and print()'s separate
    # write of the newline let two ranks' lines run together.
    sys.stdout.write(json.dumps({k: v for k, v in result.__dict__.items() if k != "loss_curve"}) + "\n")
    sys.stdout.flush()
    return 0


def cmd_ui(args: argparse.Namespace) -> int:
    launch(build_app(args.runs, llm=args.llm or default_spec(), catalog=args.catalog or []),
           host=args.host, port=args.port)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    run = RunDir(args.run).require()
    run.require_model()
    launch(build_app(run.path.parent, only_run=run.path), host=args.host, port=args.port)
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    info = diagnose(args.llm, ping=not args.no_ping)
    if args.json:
        print(json.dumps(info, indent=2))
    else:
        width = max(map(len, info))
        for key, value in info.items():
            print(f"{key:>{width}}: {value}")
    return 0 if info.get("ok") else 1


def cmd_serve_llm(args: argparse.Namespace) -> int:
    serve(args.model, alias=args.alias, n_ctx=args.ctx, host=args.host, port=args.port, api_key=args.api_key)
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="p2m", description="Turn a task description into a small trained model.")
    sub = p.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="start a run")
    run.add_argument("prompt", nargs="?", help="the task in plain words, or a .md/.txt file")
    run.add_argument("--task-file", help="a structured YAML task file (needs no LLM to read)")
    run.add_argument("--catalog", action="append", help="a local dataset catalog directory (repeatable)")
    run.add_argument("--llm", help="openai:MODEL | local[:0.5b|1.5b|PATH.gguf] | scripted:FILE | none")
    run.add_argument("--teacher", help="LLM spec of the teacher that labels, verifies and is scored "
                                       "beside the student (default: the run's LLM; the 1.5B beside "
                                       "the embedded 0.5B)")
    run.add_argument("--planner", choices=RunConfig.PLANNERS, default="auto",
                     help="who chooses each step: the LLM, the default policy, or auto (the policy "
                          "beside the embedded local model, the LLM otherwise)")
    run.add_argument("--hub", action="store_true", help="also search and download Hugging Face Hub datasets")
    run.add_argument("--model-catalog", action="append",
                     help="model snapshot JSONL to rank beside the models on disk (repeatable)")
    run.add_argument("--test", metavar="FILE.jsonl",
                     help="gold {input, output} rows you labelled: the run is scored on them only")
    run.add_argument("--unlabelled", metavar="FILE",
                     help="your own texts without labels (JSONL with 'input' or 'text', or one a line): "
                          "the teacher labels them as training rows")
    run.add_argument("--out", help="run directory (default runs/run-DATE)")
    run.add_argument("--model", help="force a student model directory")
    run.add_argument("--quiet", action="store_true", help="no progress bars")
    add_setting_flags(run)  # --epochs, --classifier, --max-iterations, --generate-n, ...: core/config.py
    run.set_defaults(func=cmd_run)

    res = sub.add_parser("resume", help="continue an interrupted run")
    res.add_argument("run")
    res.add_argument("--quiet", action="store_true")
    res.set_defaults(func=cmd_resume)

    fk = sub.add_parser("fork", help="a new run from any step of a run (its checkpoint and files), "
                                     "with the task, settings or next decision changed")
    fk.add_argument("run")
    fk.add_argument("--at", required=True, metavar="STEP",
                    help="start from the run as it was before planner step STEP (as p2m trace --step), or "
                         "words: 'before the second round', 'the first training', 'the end'")
    fk.add_argument("--out", required=True, help="the new run's folder")
    fk.add_argument("--task-file", help="the edited task (YAML/JSON): more demonstrations, renamed labels, test rows")
    fk.add_argument("--set", action="append", metavar="KEY=VALUE",
                    help="change a setting, e.g. budget.max_iterations=3 (repeatable)")
    fk.add_argument("--then", metavar="TOOL", help="the next decision, e.g. generate_examples (the guard checks it)")
    fk.add_argument("--then-args", metavar="JSON", help="its arguments, e.g. '{\"n\": 50}'")
    fk.add_argument("--no-run", action="store_true", help="create the fork only (then: p2m resume NEW)")
    fk.add_argument("--quiet", action="store_true")
    fk.set_defaults(func=cmd_fork)

    cp = sub.add_parser("compare", help="runs side by side: metrics on the gold rows they share, data by "
                                        "source, decisions, wall time, LLM calls")
    cp.add_argument("runs", nargs="+")
    cp.add_argument("--json", action="store_true")
    cp.set_defaults(func=cmd_compare)

    tr = sub.add_parser("trace", help="show a run's decisions as a timeline")
    tr.add_argument("run")
    tr.add_argument("--json", action="store_true", help="one JSON event per line")
    tr.add_argument("--step", type=int, metavar="N", help="open step N: the menu, the guard, the result, "
                                                          "rows added, metric before and after")
    tr.add_argument("--follow", action="store_true", help="a running run: each event as it happens and the "
                                                          "step in progress, until it ends")
    tr.set_defaults(func=cmd_trace)

    da = sub.add_parser("data", help="browse a run's rows with their provenance (or --dropped ones, with why)")
    da.add_argument("run")
    da.add_argument("--split", choices=("train", "validation", "test"))
    da.add_argument("--source", help="user, dataset, generated, unlabelled, user_test ...")
    da.add_argument("--output", help="rows with this output (label)")
    da.add_argument("--dropped", action="store_true", help="rows generation wrote and dropped, with the reason")
    da.add_argument("--step", type=int, metavar="N", help="the rows step N added (0: the user's, at the start)")
    da.add_argument("--limit", type=int)
    da.add_argument("--json", action="store_true", help="one JSON row per line")
    da.set_defaults(func=cmd_data)

    er = sub.add_parser("errors", help="what the published model gets wrong on the gold rows, beside the teacher")
    er.add_argument("run")
    er.add_argument("--worst", type=int, default=20, help="mistakes (or worst rows) listed")
    er.add_argument("--json", action="store_true")
    er.set_defaults(func=cmd_errors)

    ev = sub.add_parser("eval", help="score a run's model on a JSONL file of {input, output}")
    ev.add_argument("run")
    ev.add_argument("--data", required=True)
    ev.add_argument("--limit", type=int)
    ev.add_argument("--no-teacher", action="store_true",
                    help="the model alone: no cascade and no teacher on the same rows (the teacher is slow)")
    ev.set_defaults(func=cmd_eval)

    ca = sub.add_parser("calibrate", help="refit the cascade's threshold on more held-out texts, labelled by the teacher")
    ca.add_argument("run")
    ca.add_argument("--file", help="texts the model never saw (one a line, or JSONL); default: the task's "
                                   "unlabelled texts past those the run used")
    ca.add_argument("--n", type=int, default=500, help="texts to label at most (default 500)")
    ca.set_defaults(func=cmd_calibrate)

    pr = sub.add_parser("predict", help="the published model's answers, the teacher answering what it is unsure of")
    pr.add_argument("run")
    pr.add_argument("text", nargs="?", help="one text (else --file, else one text a line on stdin)")
    pr.add_argument("--file", help="texts: one a line, or JSONL rows with 'input' or 'text'")
    pr.add_argument("--no-fallback", action="store_true", help="the model alone, never the teacher")
    pr.set_defaults(func=cmd_predict)

    sv = sub.add_parser("serve", help="the published model over HTTP (POST /v1/predict), the teacher behind it")
    sv.add_argument("run")
    sv.add_argument("--host", default="127.0.0.1", help="127.0.0.1 unless told otherwise (then --api-key)")
    sv.add_argument("--port", type=int, default=8100)
    sv.add_argument("--api-key", help="key clients must send (or P2M_SERVER_API_KEY); required off loopback")
    sv.add_argument("--no-fallback", action="store_true", help="the model alone, never the teacher")
    sv.set_defaults(func=cmd_serve)

    ch = sub.add_parser("chat", help="pin the task down in a conversation, then run it")
    ch.add_argument("--out", help="run directory (default runs/run-DATE)")
    ch.add_argument("--resume", metavar="RUN", help="continue the conversation (or run) in RUN")
    ch.add_argument("--llm", help="LLM that reads free text and runs the agent (default: as `run`)")
    ch.add_argument("--catalog", action="append", help="dataset catalog directory (repeatable)")
    ch.add_argument("--model", help="force a student model directory")
    ch.add_argument("--quiet", action="store_true")
    add_setting_flags(ch)
    ch.set_defaults(func=cmd_chat)
    tr2 = sub.add_parser("train", help="train a run's chosen model on its data (torchrun/accelerate-ready)")
    tr2.add_argument("run")
    tr2.add_argument("--out", help="training folder (default RUN/train/dist-...)")
    tr2.add_argument("--epochs", type=float)
    tr2.add_argument("--quiet", action="store_true")
    tr2.set_defaults(func=cmd_train)
    ui = sub.add_parser("ui", help="the Gradio app: chat, runs, trace, playground")
    ui.add_argument("--runs", default="runs", help="the folder holding run directories")
    ui.add_argument("--llm", help="LLM for the chat and the runs it starts (default: as `run`)")
    ui.add_argument("--catalog", action="append", help="dataset catalog for runs started from the chat")
    ui.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1 only; "
                                                       "any other needs P2M_UI_AUTH=user:password)")
    ui.add_argument("--port", type=int)
    ui.set_defaults(func=cmd_ui)
    dm = sub.add_parser("demo", help="serve only the playground of one run")
    dm.add_argument("run")
    dm.add_argument("--host", default="127.0.0.1")
    dm.add_argument("--port", type=int)
    dm.set_defaults(func=cmd_demo)
    exp = sub.add_parser("export", help="export a run's model (ONNX for encoder models)")
    exp.add_argument("run")
    exp.add_argument("--format", choices=["onnx"], default="onnx")
    exp.add_argument("--out", help="the .onnx file (default RUN/export/model.onnx)")
    exp.set_defaults(func=cmd_export)
    doc = sub.add_parser("doctor", help="which LLM backend and model would be used, and does it answer")
    doc.add_argument("--llm")
    doc.add_argument("--json", action="store_true")
    doc.add_argument("--no-ping", action="store_true", help="skip the one-line test prompt")
    doc.set_defaults(func=cmd_doctor)
    srv = sub.add_parser("serve-llm", help="serve the embedded LLM as an OpenAI-compatible endpoint")
    srv.add_argument("--model", help="a GGUF file (default: the embedded model)")
    srv.add_argument("--alias", default="local", help="the model name clients ask for")
    srv.add_argument("--ctx", type=int, default=4096, help="context window in tokens")
    srv.add_argument("--host", default="127.0.0.1", help="off loopback an API key is required")
    srv.add_argument("--api-key", help="key clients must send (or P2M_SERVER_API_KEY)")
    srv.add_argument("--port", type=int, default=8000)
    srv.set_defaults(func=cmd_serve_llm)
    return p


def main(argv: Optional[list[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    # What p2m prints (reports, doctor's JSON, errors, logs, tracebacks) names no secrets.
    if not isinstance(sys.stderr, RedactingStream):
        sys.stderr = RedactingStream(sys.stderr)
    if not isinstance(sys.stdout, RedactingStream):
        sys.stdout = RedactingStream(sys.stdout)
    add_secret(getattr(args, "api_key", None))

    try:
        return args.func(args)
    except (TaskSpecError, RunError, LLMSpecError, DatasetError, FileNotFoundError, ValueError) as exc:
        print(f"p2m {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
