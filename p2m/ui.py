"""`p2m ui`: the Gradio app (Chat, Runs, Trace, Playground); `p2m demo RUN`: one run's playground.

Bound to 127.0.0.1 with analytics off unless told otherwise; never shared through Gradio's relay.
Runs launched from the chat execute in a background thread of this process, in `runs_dir`.
"""
from __future__ import annotations

import json
import re
import threading
import time
from pathlib import Path
from typing import Any, Optional

from p2m.llm.factory import make_llm, run_teacher
from p2m.exposure import LoopbackOnly, is_loopback, ui_auth
from p2m.runfolder.rundir import RunDir, RunError, has_model
from p2m.tools.families.baselines import NAME as BASELINE
from p2m.core.schemas import TaskSpec
from p2m.trace_view import step_detail, timeline_rows
from p2m.data_view import browse
from p2m.errors_view import errors
from p2m.fork import fork_point, fork_run
from p2m.compare import compare_runs
from p2m.live import live_status, status_line
from p2m.graph.plots import plot_images
from p2m import runner
from p2m.core.config import RunConfig
from p2m.tools.scoring.cascade import routed
from p2m.tools.scoring.predictions import teacher_predict
from p2m.tools.families import predict_for
from p2m.tools.data.task import TaskSpecError, read_unlabelled, task_from_dict

HOST = "127.0.0.1"
GO_BACK = re.compile(r"^\s*(go back|back to|fork|start again from|restart from)\b", re.I)
ACTIVE: dict[str, threading.Thread] = {}


# -- the pieces, usable without Gradio ------------------------------------------------------------
def list_runs(runs_dir: Path) -> list[list[Any]]:
    """[[name, status, gold metric, published model, demonstrations-only baseline, teacher, stop
    reason]] for each run directory, newest first. A run whose report cannot be read is listed as
    such, and a symlink is not a run (`run_folders`)."""
    rows = []
    for d in run_folders(runs_dir):
        try:
            r = RunDir(d).report()
        except RunError as exc:
            rows.append([d.name, f"unreadable: {exc}", "-", "-", "-", "-", ""])
            continue
        if isinstance(r, dict):
            metric = r.get("metric") if isinstance(r.get("metric"), dict) else {}
            baselines = r.get("baselines") if isinstance(r.get("baselines"), dict) else {}
            shown = [(baselines.get(k) or {}).get("value") if isinstance(baselines.get(k), dict) else None
                     for k in (BASELINE, "teacher")]
            rows.append([d.name, "finished", f"{metric.get('name', '-')} {metric.get('value', '-')}",
                         str(r.get("published") or "-"), *("-" if v is None else v for v in shown),
                         str(r.get("stop_reason") or "")])
        else:
            alive = d.name in ACTIVE and ACTIVE[d.name].is_alive()
            rows.append([d.name, "running" if alive else "stopped (resume it)", "-", "-", "-", "-", ""])
    return rows


def run_folders(runs_dir: Path) -> list[Path]:
    """The runs directly under `runs_dir`, newest first: real folders holding a task, never a
    symlink (one could point the UI at folders outside the runs folder)."""
    if not runs_dir.is_dir():
        return []
    found = [d for d in runs_dir.iterdir() if not d.is_symlink() and d.is_dir() and RunDir(d).is_run]
    return sorted(found, key=lambda p: p.stat().st_mtime, reverse=True)


def trace_table(run_dir: Path) -> list[list[str]]:
    if not RunDir(run_dir).trace_path.is_file():
        return []
    return [[r["t"], r["node"], r["what"], r["detail"], r["tokens"]] for r in timeline_rows(run_dir)]


def run_plots(run_dir: Path) -> list[tuple[Any, str]]:
    """The run's plots as in-memory images with captions: viewing writes nothing in the run."""
    if not RunDir(run_dir).is_run:
        return []
    return [(image, name) for name, image in plot_images(run_dir).items()]


class Session:
    """One chat in the UI, held by the same intake graph as `p2m chat` (graph/intake.py): it asks
    for what the task lacks, takes corrections (fields, or free words the LLM re-reads), and
    launches the run when the user says 'run'."""

    def __init__(self, llm_spec: Optional[str], runs_dir: Path, catalog: list[str]):
        from langgraph.checkpoint.memory import InMemorySaver

        from p2m.graph.intake import build_intake

        self.llm = make_llm(llm_spec) if llm_spec != "none" else None
        self.llm_spec = llm_spec
        self.runs_dir, self.catalog = runs_dir, catalog
        self.graph = build_intake(self.llm, InMemorySaver())
        self.thread = {"configurable": {"thread_id": f"ui-{id(self)}"}}
        self.started = False
        self.unlabelled: list[str] = []  # texts the user uploaded; the run's teacher labels them
        self.last_run: Optional[Path] = None  # the run this chat started (or forked) last

    def go_back(self, text: str) -> str:
        """'go back to before the second round and add these examples:' then `text => output`
        lines: the last run forked there (`p2m fork`), with them, and started."""
        first, _, rest = text.partition("\n")
        assert self.last_run is not None
        try:
            n = fork_point(self.last_run, first.split(":")[0])
            out, added = fork_and_start(self.runs_dir, self.last_run, n, rest)
        except (RunError, ValueError, TaskSpecError, OSError) as exc:
            return f"I could not go back: {exc}"
        source, self.last_run = self.last_run, out
        return (f"Went back to before step {n} of **{source.name}**"
                + (f" with {added} more demonstrations" if added else "") +
                f": the fork **{out.name}** is running, nothing before step {n} is asked again.")

    @property
    def state(self) -> dict[str, Any]:
        return self.graph.get_state(self.thread).values if self.started else {}

    @property
    def task(self) -> Optional[TaskSpec]:
        """The task as the conversation has it, once it holds together."""
        from p2m.graph.intake import missing, validation_problem

        draft = self.state.get("draft") or {}
        if not draft or missing(draft) or validation_problem(draft):
            return None
        return TaskSpec.model_validate(draft)

    def reply(self, message: str) -> str:
        from langgraph.types import Command

        from p2m.graph.intake import summary

        from p2m.graph.intake import RUN_WORDS

        text = message.strip()
        if not text:
            return "Tell me what the model should do, with a few examples."
        if self.last_run is not None and GO_BACK.match(text):
            return self.go_back(text)
        if text.lower() in RUN_WORDS and self.task is None:
            return "There is no task yet: describe it first."
        if not self.started:  # the first question is the task itself: this message answers it
            self.graph.invoke({"draft": {}, "transcript": [], "revisions": []}, self.thread)
            self.started = True
        result = self.graph.invoke(Command(resume=text), self.thread)
        pending = result.get("__interrupt__") if isinstance(result, dict) else None
        if not pending:
            return self.launch()
        question = pending[-1].value
        draft = self.state.get("draft") or {}
        if question["field"] == "confirm" or not draft.get("instruction"):
            return question["question"]
        return f"Here is the task so far:\n{summary(draft)}\n\n{question['question']}"

    def add_unlabelled(self, path: Optional[str]) -> str:
        """Take the user's unlabelled texts from an uploaded file (JSONL with "input"/"text", or
        one text a line) for the next run; a file that cannot be read is refused by name."""
        if not path:
            return f"{len(self.unlabelled):,} unlabelled texts for the next run."
        try:
            texts = read_unlabelled(path)
            task_from_dict({"instruction": "x", "unlabelled": self.unlabelled + texts})
        except (TaskSpecError, ValueError) as exc:
            return f"Not taken: {exc}"
        self.unlabelled += texts
        return (f"Took {len(texts):,} unlabelled texts ({len(self.unlabelled):,} in all): the teacher "
                "labels them during the run, as training and validation rows.")

    def launch(self) -> str:
        task = self.task
        if task is None:
            return "There is no task yet: describe it first."
        if self.unlabelled:
            task = task_from_dict({**task.model_dump(), "unlabelled": task.unlabelled + self.unlabelled})
            self.unlabelled = []
        out = runner.default_run_dir(self.runs_dir)
        config = RunConfig(llm=self.llm_spec or "none", catalog=list(self.catalog))
        runner.create_run(task, config, out)
        ctx = runner.open_context(out, progress=False)
        runner.record_conversation(ctx, self.state.get("revisions", []), self.state.get("transcript", []))
        thread = threading.Thread(target=lambda: runner.execute(ctx), daemon=True,
                                  name=f"p2m-run-{out.name}")
        ACTIVE[out.name] = thread
        thread.start()
        self.last_run = out
        self.started, self.thread = False, {"configurable": {"thread_id": f"ui-{id(self)}-{out.name}"}}
        return f"Started run **{out.name}**: follow it in the Runs and Trace tabs."


def playground(run_dir: Path, text: str, with_teacher: bool = True) -> tuple[str, str, str]:
    """(student's answer, teacher LLM's answer, who answers in the cascade) for one input."""
    run = RunDir(run_dir)
    if not run.is_run or not has_model(run.model_dir):
        return "this run has no trained model yet", "", ""
    task = run.task()
    student = predict_for(task, run.model_dir, [text])[0]
    answers = "the student (no cascade for this family)"
    if task.label_set:
        _, conf, alone, fitted = routed(run.model_dir, [text])
        if alone[0]:
            answers = f"the student: confidence {conf[0]:.3f} >= the threshold {fitted['threshold']:.3f}"
        elif fitted.get("threshold") is None:
            answers = f"the teacher: no threshold kept disagreement within the budget (confidence {conf[0]:.3f})"
        else:
            answers = f"the teacher: confidence {conf[0]:.3f} < the threshold {fitted['threshold']:.3f}"
    config = run.config()
    teacher = "(no teacher LLM: the run used --llm none)"
    if with_teacher and config.llm not in (None, "none"):
        try:
            started = time.perf_counter()
            answer = teacher_predict(run_teacher(config), task, [text])[0][0]
            teacher = f"{answer}  ({time.perf_counter() - started:.1f} s)"
        except Exception as exc:  # the teacher is optional; say why it is missing
            teacher = f"(teacher unavailable: {exc})"
    return student, teacher, answers


# -- the app ---------------------------------------------------------------------------------------
def build_app(runs_dir: str | Path = "runs", llm: Optional[str] = None, catalog: Optional[list[str]] = None,
              only_run: Optional[str | Path] = None) -> Any:
    import gradio as gr

    runs_dir = Path(runs_dir)
    names = lambda: [r[0] for r in list_runs(runs_dir)]  # noqa: E731
    with gr.Blocks(title="p2m") as app:
        gr.Markdown("# p2m — a task description in, a small trained model out")
        if only_run is not None:
            _playground_tab(gr, Path(only_run).parent, lambda: [Path(only_run).name], only=Path(only_run).name)
            return app
        with gr.Tab("Chat"):
            session = gr.State(None)
            chat = gr.Chatbot(label="Agent", height=360)
            box = gr.Textbox(label="Message", placeholder="Describe the task, give examples; say 'run' to train")
            send = gr.Button("Send", variant="primary")

            def on_send(message: str, history: list, state: Optional[Session]):
                state = state or Session(llm, runs_dir, catalog or [])
                answer = state.reply(message)
                history = (history or []) + [{"role": "user", "content": message},
                                             {"role": "assistant", "content": answer}]
                return "", history, state

            send.click(on_send, [box, chat, session], [box, chat, session])
            box.submit(on_send, [box, chat, session], [box, chat, session])
            upload = gr.File(label="Unlabelled texts (optional): JSONL rows with \"input\", or one text a line",
                             file_types=[".jsonl", ".txt", ".csv"], type="filepath")
            taken = gr.Markdown()

            def on_upload(path: Optional[str], state: Optional[Session]):
                state = state or Session(llm, runs_dir, catalog or [])
                return state.add_unlabelled(path), state

            upload.upload(on_upload, [upload, session], [taken, session])
        with gr.Tab("Runs"):
            table = gr.Dataframe(headers=["run", "status", "gold metric", "published", "baseline",
                                          "teacher", "stop reason"],
                                 value=lambda: list_runs(runs_dir), interactive=False)
            refresh = gr.Button("Refresh")
            refresh.click(lambda: list_runs(runs_dir), None, table)
            gr.Timer(3.0).tick(lambda: list_runs(runs_dir), None, table)
            with gr.Row():
                chosen = gr.Dropdown(choices=names(), multiselect=True, label="Runs to compare")
                compare = gr.Button("Compare")
            said = gr.Markdown()
            side = gr.Dataframe(headers=COMPARE_HEADERS, interactive=False, wrap=True)
            compare.click(lambda picked: compare_table(runs_dir, picked), chosen, [side, said])
            chosen.focus(lambda: gr.Dropdown(choices=names()), None, chosen)
        with gr.Tab("Trace"):
            pick = gr.Dropdown(choices=names(), label="Run", allow_custom_value=True)
            with gr.Row():
                show = gr.Button("Show trace")
                live = gr.Checkbox(label="Follow live (every 2 s)")
            now = gr.Markdown()
            timeline = gr.Dataframe(headers=["t", "node", "what", "detail", "tokens"], interactive=False,
                                    wrap=True)
            report = gr.JSON(label="report.json")
            gallery = gr.Gallery(label="Plots", columns=3, height=300)

            def on_show(name: str):
                run = run_path(runs_dir, name)
                if run is None:
                    return [], {"error": f"no run named {name!r} under {runs_dir}"}, []
                try:
                    return trace_table(run), RunDir(run).report() or {}, run_plots(run)
                except RunError as exc:  # an unreadable file is named, never a traceback
                    return [], {"error": str(exc)}, []

            show.click(on_show, pick, [timeline, report, gallery])
            gr.Timer(2.0).tick(lambda name, on: live_view(runs_dir, name) if on else (gr.skip(), gr.skip()),
                               [pick, live], [timeline, now])
            pick.focus(lambda: gr.Dropdown(choices=names()), None, pick)
        _inspect_tab(gr, runs_dir, names)
        _playground_tab(gr, runs_dir, names)
    return app


COMPARE_HEADERS = ["run", "published", "on shared rows", "teacher vs published (its rows)",
                   "rows user/retrieved/generated/labelled", "iterations", "wall s", "LLM calls", "decisions"]


def compare_table(runs_dir: Path, names: Optional[list[str]]) -> tuple[list[list[Any]], str]:
    """Runs side by side (`p2m compare`) as table rows, and a line saying on how many shared gold
    rows, or what is wrong."""
    paths = [run_path(runs_dir, n) for n in names or []]
    if any(p is None for p in paths):
        return [], f"no run named {[n for n, p in zip(names or [], paths) if p is None][0]!r} under {runs_dir}"
    try:
        result = compare_runs([p for p in paths if p is not None])
    except (RunError, OSError) as exc:
        return [], f"not compared: {exc}"
    rows = []
    for r in result["runs"]:
        shared, n = r["on_shared_rows"], r["rows"]
        teacher = shared.get("teacher") or {}
        rows.append([Path(r["run"]).name, r["published"], _rounded(shared.get("published")),
                     f"{_rounded(teacher.get('teacher'))} vs {_rounded(teacher.get('published'))} on {teacher.get('n', 0)}",
                     f"{n['n_user']}/{n['n_retrieved']}/{n['n_generated']}/{n['n_unlabelled']}",
                     r["iterations"], r["wall_s"], r["llm_calls"], " → ".join(r["decisions"])])
    return rows, f"{result['shared_gold_rows']} gold rows shared by the runs ({result['metric']})"


def _rounded(value: Any) -> Any:
    return round(value, 4) if isinstance(value, float) else "-" if value is None else value


def live_view(runs_dir: Path, name: str) -> tuple[list[list[str]], str]:
    """The trace so far and the step running now (`p2m trace --follow`), for the Trace tab."""
    run = run_path(runs_dir, name)
    if run is None:
        return [], f"no run named {name!r} under {runs_dir}"
    try:
        return trace_table(run), f"**{status_line(live_status(run))}**"
    except (RunError, OSError) as exc:
        return [], str(exc)


def inspect_step(runs_dir: Path, name: str, n: Any) -> dict[str, Any]:
    """One step of a run opened (`p2m trace --step`), or the error named."""
    run = run_path(runs_dir, name)
    if run is None:
        return {"error": f"no run named {name!r} under {runs_dir}"}
    try:
        return step_detail(run, int(n or 1))
    except (RunError, ValueError, OSError) as exc:
        return {"error": str(exc)}


def inspect_errors(runs_dir: Path, name: str) -> dict[str, Any]:
    """The published model's mistakes beside the teacher's (`p2m errors`), or the error named."""
    run = run_path(runs_dir, name)
    if run is None:
        return {"error": f"no run named {name!r} under {runs_dir}"}
    try:
        return errors(run)
    except (RunError, ValueError, OSError) as exc:
        return {"error": str(exc)}


def inspect_data(runs_dir: Path, name: str, split: str = "", source: str = "", dropped: bool = False,
                 label: str = "", step: Any = None) -> list[list[Any]]:
    """Rows of a run with their provenance (`p2m data`) as table rows, filtered by split, source,
    label and the step that added them; none for an unknown run."""
    run = run_path(runs_dir, name)
    if run is None:
        return []
    try:
        rows = browse(run, split or None, source or None, label or None, dropped, limit=2000,
                      step=int(step) if step not in (None, "") else None)
    except (RunError, OSError, ValueError):
        return []
    return [[r["n"], r["step"], r["split"], r["kind"], r["output"], r["input"],
             json.dumps(r["provenance"], ensure_ascii=False)] for r in rows]


def parse_demonstrations(text: str) -> list[dict[str, str]]:
    """Demonstrations typed one a line as `text => output`; ValueError naming a line without it."""
    demos = []
    for i, line in enumerate((text or "").splitlines(), 1):
        if not line.strip():
            continue
        text_, sep, output = line.rpartition("=>")
        if not sep or not text_.strip() or not output.strip():
            raise ValueError(f"line {i} is not `text => output`: {line[:80]!r}")
        demos.append({"input": text_.strip(), "output": output.strip()})
    return demos


def fork_and_start(runs_dir: Path, run: Path, n: int, demonstrations: str = "", settings: str = "",
                   start: bool = True) -> tuple[Path, int]:
    """Fork `run` before step `n` into a new folder of `runs_dir` with the demonstrations typed
    (`text => output`, one a line) added and the settings (`KEY=VALUE`, one a line) changed, and
    start it in the background: (the new run, demonstrations added). Errors as `fork_run`."""
    task = RunDir(run).task()
    added = parse_demonstrations(demonstrations)
    if added:
        task = task_from_dict({**task.model_dump(), "examples": [e.model_dump() for e in task.examples] + added})
    base = runs_dir / f"{run.name}-fork{n}-{time.strftime('%H%M%S')}"
    out, k = base, 1
    while out.exists():  # two forks in one second
        k += 1
        out = base.with_name(f"{base.name}-{k}")
    fork_run(run, n, out, task=task if added else None,
             settings=[s.strip() for s in (settings or "").splitlines() if s.strip()])
    if start:
        ctx = runner.open_context(out, progress=False)
        thread = threading.Thread(target=lambda: runner.execute(ctx), daemon=True, name=f"p2m-run-{out.name}")
        ACTIVE[out.name] = thread
        thread.start()
    return out, len(added)


def fork_from_step(runs_dir: Path, name: str, n: Any, demonstrations: str = "", settings: str = "",
                   start: bool = True) -> str:
    """`p2m fork` from the Inspect tab (`fork_and_start`); what happened, in a sentence."""
    run = run_path(runs_dir, name)
    if run is None:
        return f"no run named {name!r} under {runs_dir}"
    try:
        out, added = fork_and_start(runs_dir, run, int(n or 1), demonstrations, settings, start)
    except (RunError, ValueError, TaskSpecError, OSError) as exc:
        return f"not forked: {exc}"
    return (f"Forked **{run.name}** before step {int(n or 1)} into **{out.name}**"
            + (f" with {added} more demonstrations" if added else "")
            + (": running, follow it in the Runs and Trace tabs." if start else "."))


def _inspect_tab(gr: Any, runs_dir: Path, names: Any) -> None:
    """A run opened like a debugger: one step, the rows with their provenance, the errors."""
    with gr.Tab("Inspect"):
        pick = gr.Dropdown(choices=names(), label="Run", allow_custom_value=True)
        with gr.Row():
            step = gr.Number(value=1, precision=0, label="Step")
            open_step = gr.Button("Open step")
            show_errors = gr.Button("Errors against the teacher")
        detail = gr.JSON(label="Step / errors")
        with gr.Row():
            split = gr.Dropdown(choices=["", "train", "validation", "test"], value="", label="Split")
            source = gr.Dropdown(choices=["", "user", "user_test", "dataset", "generated", "unlabelled"], value="",
                                 label="Source")
            label = gr.Textbox(label="Label (output)")
            added_by = gr.Number(value=None, precision=0, label="Added by step")
            dropped = gr.Checkbox(label="Dropped rows (with why)")
            show_data = gr.Button("Show rows")
        rows = gr.Dataframe(headers=["#", "step", "split", "source", "output", "input", "provenance"],
                            interactive=False, wrap=True)
        with gr.Accordion("Fork from this step", open=False):
            more = gr.Textbox(label="More demonstrations (one a line: text => output)", lines=3)
            settings = gr.Textbox(label="Settings (one a line: KEY=VALUE, e.g. budget.max_iterations=3)", lines=2)
            fork = gr.Button("Fork and run")
            forked = gr.Markdown()
        fork.click(lambda name, n, d, st: fork_from_step(runs_dir, name, n, d, st), [pick, step, more, settings],
                   forked)
        open_step.click(lambda name, n: inspect_step(runs_dir, name, n), [pick, step], detail)
        show_errors.click(lambda name: inspect_errors(runs_dir, name), pick, detail)
        show_data.click(lambda name, sp, so, dr, lb, st: inspect_data(runs_dir, name, sp, so, dr, lb, st),
                        [pick, split, source, dropped, label, added_by], rows)
        pick.focus(lambda: gr.Dropdown(choices=names()), None, pick)


def _playground_tab(gr: Any, runs_dir: Path, names: Any, only: Optional[str] = None) -> None:
    """The playground; with `only` (`p2m demo RUN`) it answers for that run alone, whatever name
    a request to its API carries (the hidden box is not a boundary)."""
    with gr.Tab("Playground"):
        choices = names()
        pick = gr.Dropdown(choices=choices, value=choices[0] if choices else None, label="Run",
                           interactive=only is None, allow_custom_value=True)
        text = gr.Textbox(label="Your input", lines=3)
        go = gr.Button("Predict", variant="primary")
        student = gr.Textbox(label="Student (the trained model)")
        teacher = gr.Textbox(label="Teacher LLM")
        answers = gr.Textbox(label="Who answers in the cascade")
        def on_go(name: str, text: str) -> tuple[str, str, str]:
            run = run_path(runs_dir, name, only=only)
            return playground(run, text) if run else (f"no run named {name!r} here", "", "")

        go.click(on_go, [pick, text], [student, teacher, answers])


def launch(app: Any, host: str = HOST, port: Optional[int] = None, block: bool = True) -> Any:
    """Serve on `host` (127.0.0.1 unless told otherwise, and then only with P2M_UI_AUTH
    credentials); never through a public share link. On loopback without credentials, only
    requests addressed to a loopback name are answered (`exposure.LoopbackOnly`: DNS rebinding)."""
    from starlette.middleware import Middleware

    auth = ui_auth(host)
    guarded = auth is None and is_loopback(host)
    return app.launch(server_name=host, server_port=port, share=False, prevent_thread_lock=not block,
                      quiet=True, auth=auth,
                      app_kwargs={"middleware": [Middleware(LoopbackOnly)]} if guarded else None)


def run_path(runs_dir: Path, name: Optional[str], only: Optional[str] = None) -> Optional[Path]:
    """The run called `name` under `runs_dir`, or None: the one way the UI and the demo turn a
    name they were sent into a folder. Only a real directory directly under `runs_dir` that holds
    a run is returned ('../x', an absolute path, a file or a symlink never is), and with `only`
    (`p2m demo RUN`) no other name than that one."""
    if not isinstance(name, str) or not name or name != Path(name).name or name in (".", ".."):
        return None
    if only is not None and name != only:
        return None
    path = runs_dir / name
    if path.is_symlink() or not path.is_dir() or path.resolve().parent != runs_dir.resolve():
        return None
    return path if RunDir(path).is_run else None
