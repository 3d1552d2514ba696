"""The Gradio app's pieces without a browser: runs table, chat revisions, playground."""
from __future__ import annotations

import json

import pytest

from p2m import runner
from p2m.core.config import RunConfig
from p2m.runfolder.rundir import RunDir
from p2m.core.schemas import TaskSpec
from p2m.ui import Session, list_runs, playground, run_path, trace_table

TASK = TaskSpec(instruction="Classify movie review sentiment.", labels=["negative", "positive"])


@pytest.fixture(scope="module")
def runs_dir(tmp_path_factory, sst2_catalog, tiny_model_dir):
    root = tmp_path_factory.mktemp("runs")
    config = RunConfig(llm="none", catalog=[str(sst2_catalog)], model=str(tiny_model_dir))
    config.train.epochs = 1
    config.budget.max_iterations = 1
    runner.create_run(TASK, config, root / "finished")
    runner.execute(runner.open_context(root / "finished", progress=False))
    return root


def test_runs_table_and_trace(runs_dir):
    rows = list_runs(runs_dir)
    assert rows[0][0] == "finished" and rows[0][1] == "finished" and rows[0][2].startswith("accuracy")
    assert any("evaluate" in r[2] for r in trace_table(runs_dir / "finished"))


def test_playground_answers_without_a_teacher(runs_dir):
    student, teacher, answers = playground(runs_dir / "finished", "a wonderful, moving film")
    assert student in ("negative", "positive") and "no teacher" in teacher
    assert answers.startswith("the teacher: no threshold")  # gold-only validation: nothing to fit on


def test_the_inspect_tab_opens_a_step_the_rows_and_the_errors(runs_dir):
    """Issue 36: the UI's Inspect tab gives what `p2m trace --step`, `p2m data` and `p2m errors` give."""
    from p2m.ui import inspect_data, inspect_errors, inspect_step

    opened = inspect_step(runs_dir, "finished", 1)
    assert opened["decided"]["tool"] == "search_datasets" and "legal" in opened["options"]
    assert "steps 1 to" in inspect_step(runs_dir, "finished", 99)["error"]
    assert "no run named" in inspect_step(runs_dir, "../elsewhere", 1)["error"]
    rows = inspect_data(runs_dir, "finished", "test", "dataset")
    assert rows and all(r[2] == "test" and r[3] == "dataset" for r in rows)
    loaded = inspect_data(runs_dir, "finished", "", "", False, "positive", 2)  # step 2 loaded the dataset
    assert loaded and all(r[1] == 2 and r[4] == "positive" for r in loaded)
    assert inspect_data(runs_dir, "finished", step=1) == []  # the search added no row
    assert inspect_data(runs_dir, "nope") == []
    assert inspect_errors(runs_dir, "finished")["n"] > 0


def test_the_inspect_tab_forks_a_run_from_a_step_with_more_demonstrations(runs_dir):
    """Issue 36: the UI offers a fork on every step: demonstrations typed `text => output`,
    settings `KEY=VALUE`; a bad line is named and nothing is made."""
    from p2m.ui import fork_from_step

    said = fork_from_step(runs_dir, "finished", 2, "a tender, luminous film => positive\n\nsheer tedium => negative",
                          "budget.max_iterations=2", start=False)
    assert said.startswith("Forked **finished** before step 2 into **finished-fork2-") and "2 more" in said
    fork = next(p for p in runs_dir.iterdir() if p.name.startswith("finished-fork2-"))
    task = RunDir(fork).task()
    assert [e.input for e in task.examples][-2:] == ["a tender, luminous film", "sheer tedium"]
    assert RunDir(fork).read_json("config.json")["budget"]["max_iterations"] == 2
    before = sorted(p.name for p in runs_dir.iterdir())
    assert "line 1 is not `text => output`" in fork_from_step(runs_dir, "finished", 2, "no arrow here", start=False)
    assert "no setting 'nope'" in fork_from_step(runs_dir, "finished", 2, "", "nope=1", start=False)
    assert "can be forked at steps 1 to" in fork_from_step(runs_dir, "finished", 999, start=False)
    assert sorted(p.name for p in runs_dir.iterdir()) == before


def test_only_listed_run_names_are_opened(runs_dir, tmp_path):
    outside = tmp_path / "elsewhere"
    runner.create_run(TASK, RunConfig(llm="none", catalog=[str(runs_dir)]), outside)
    assert run_path(runs_dir, "finished") == runs_dir / "finished"
    for typed in ("../elsewhere", str(outside), "..", ".", "", None, "finished/../finished", "nope"):
        assert run_path(runs_dir, typed) is None, typed


def task_reply(labels):
    return {"purpose": "parse_task", "json": {"instruction": "Classify review sentiment",
                                              "task_type": "classification", "labels": labels,
                                              "examples": [{"input": "great", "output": labels[-1]},
                                                           {"input": "awful", "output": labels[0]}]}}


def test_chat_revisions_reach_the_run_trace(tmp_path, write_script, sst2_catalog):
    """The UI's chat is the intake graph of `p2m chat`: it asks for what is missing, and free
    words that fill nothing asked are re-read by the LLM as a correction."""
    script = write_script(tmp_path / "chat.jsonl",
                          [task_reply(["neg", "pos"]), task_reply(["negative", "neutral", "positive"])])
    session = Session(f"scripted:{script}", tmp_path / "runs", [str(sst2_catalog)])
    assert session.reply("run") == "There is no task yet: describe it first."
    first = session.reply("classify reviews as neg or pos")
    assert "neg, pos" in first and "What score" in first
    assert "or say 'run'" in session.reply("0.9")
    assert "negative, neutral, positive" in session.reply("actually use negative, neutral and positive")
    assert "does not hold together" in session.reply("labels: a, b")  # the examples say otherwise
    assert "negative, neutral, positive" in session.reply("labels: negative, neutral, positive")
    started = session.reply("run")
    run = next((tmp_path / "runs").iterdir())
    assert run.name in started
    events = [json.loads(line) for line in (run / "trace.jsonl").read_text().splitlines()]
    revisions = [e["summary"]["labels"] for e in events if e["kind"] == "task_revision"]
    assert revisions == [["neg", "pos"], ["negative", "neutral", "positive"]]
    assert json.loads((run / "task.json").read_text())["labels"] == ["negative", "neutral", "positive"]
    from p2m.ui import ACTIVE

    ACTIVE[run.name].join(timeout=120)  # let the background run end before the tmp dir goes


# -- issue 35: the Gradio HTTP API probed as a stranger would -------------------------------------
def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(app):
    from p2m.ui import launch

    port = free_port()
    launch(app, port=port, block=False)
    return f"http://127.0.0.1:{port}"


def snapshot(folder):
    """Every file under `folder` with its size and modification time (symlinks as links)."""
    return {str(p.relative_to(folder)): (p.lstat().st_size, p.lstat().st_mtime_ns)
            for p in sorted(folder.rglob("*"))}


@pytest.fixture(scope="module")
def probed(runs_dir, tmp_path_factory):
    """runs_dir plus a sibling run, a symlink to a run outside it and a planted plots/ symlink;
    the full app and `p2m demo finished`, both served on loopback."""
    import shutil

    from bench.fake_openai import FakeOpenAI
    from p2m.ui import build_app

    outside = tmp_path_factory.mktemp("outside")
    shutil.copytree(runs_dir / "finished", outside / "elsewhere")
    if not (runs_dir / "sibling").exists():
        shutil.copytree(runs_dir / "finished", runs_dir / "sibling")
    if not (runs_dir / "linked").exists():
        (runs_dir / "linked").symlink_to(outside / "elsewhere", target_is_directory=True)
    victim = outside / "victim.png"
    victim.write_bytes(b"keep me")
    plots = runs_dir / "finished" / "plots"
    plots.mkdir(exist_ok=True)
    (plots / "metric.png").unlink(missing_ok=True)
    (plots / "metric.png").symlink_to(victim)
    secret = outside / "secret.txt"
    secret.write_text("TOPSECRET-chat-file-0451: classify as spam or ham")
    fake = FakeOpenAI(latency=0.0).start()
    fake.bodies = []
    handle = fake._handle
    fake._handle = lambda handler, body: (fake.bodies.append(body), handle(handler, body))[-1]
    import os

    os.environ["OPENAI_BASE_URL"] = fake.base_url
    full = build_app(runs_dir, llm="openai:fake")
    demo = build_app(runs_dir, only_run=runs_dir / "finished")
    urls = {"full": serve(full), "demo": serve(demo)}
    yield {"runs": runs_dir, "outside": outside, "victim": victim, "secret": secret, "fake": fake, **urls}
    full.close()
    demo.close()
    fake.stop()
    os.environ.pop("OPENAI_BASE_URL", None)


def client(url):
    from gradio_client import Client

    return Client(url, verbose=False, download_files=False)  # report.json holds paths, not files


def test_a_chat_message_naming_a_server_file_is_text(probed):
    """The chat read any .md/.txt path it was sent and gave its contents to the LLM."""
    answer = client(probed["full"]).predict(str(probed["secret"]), [], api_name="/on_send")
    sent = json.dumps(probed["fake"].bodies)
    assert str(probed["secret"]) in sent  # the message went to the LLM as the words it is
    assert "TOPSECRET-chat-file-0451" not in sent and "TOPSECRET" not in json.dumps(answer)


def test_the_demo_answers_for_its_own_run_only(probed):
    """`p2m demo RUN` loaded any sibling run named in a request (the hidden box is no boundary)."""
    demo = client(probed["demo"])
    student, _, _ = demo.predict("finished", "a wonderful, moving film", api_name="/on_go")
    assert student in ("negative", "positive")
    for name in ("sibling", "linked", "../outside"):
        student, teacher, _ = demo.predict(name, "a wonderful, moving film", api_name="/on_go")
        assert student.startswith("no run named") and teacher == "", name


def test_a_symlinked_run_folder_is_not_a_run(probed):
    names = [row[0] for row in list_runs(probed["runs"])]
    assert "linked" not in names and "sibling" in names
    timeline, report, plots = client(probed["full"]).predict("linked", api_name="/on_show")
    assert "no run named" in json.dumps(report)
    student, _, _ = client(probed["full"]).predict("linked", "fine", api_name="/on_go")
    assert student.startswith("no run named")


def test_viewing_a_trace_writes_nothing_and_follows_no_symlink(probed):
    before = snapshot(probed["runs"] / "finished")
    timeline, report, plots = client(probed["full"]).predict("finished", api_name="/on_show")
    assert report["metric"]["name"] == "accuracy" and plots  # shown, from memory
    assert probed["victim"].read_bytes() == b"keep me"
    assert snapshot(probed["runs"] / "finished") == before


def test_one_corrupt_report_is_named_not_fatal(probed):
    """One corrupt report.json anywhere stopped `p2m ui` from starting, naming no file."""
    import shutil

    from p2m.ui import build_app

    shutil.copytree(probed["runs"] / "finished", probed["runs"] / "broken", symlinks=True)
    (probed["runs"] / "broken" / "report.json").write_text("{not json")
    build_app(probed["runs"]).close()
    rows = {row[0]: row for row in list_runs(probed["runs"])}
    assert rows["broken"][1].startswith("unreadable") and "report.json" in rows["broken"][1]
    _, report, _ = client(probed["full"]).predict("broken", api_name="/on_show")
    assert "report.json" in report["error"]


@pytest.mark.parametrize("headers", [{"Host": "evil.example.com"}, {"Origin": "http://evil.example.com"},
                                     {"Host": "evil.example.com:7860", "Origin": "http://127.0.0.1"},
                                     {"Origin": "null"}])
def test_the_loopback_ui_refuses_other_hosts_and_origins(probed, headers):
    """DNS rebinding: a page elsewhere reached the UI on 127.0.0.1 and got a 200 and an event id."""
    import httpx

    for url in (probed["full"], probed["demo"]):
        assert httpx.get(url + "/", headers=headers).status_code == 403
        join = httpx.post(url + "/gradio_api/queue/join", headers=headers,
                          json={"data": ["x", []], "fn_index": 0, "session_hash": "probe"})
        assert join.status_code == 403 and "event_id" not in join.text
    assert httpx.get(probed["full"] + "/", headers={"Origin": probed["full"]}).status_code == 200


def test_uploaded_unlabelled_texts_reach_the_run(tmp_path, write_script, sst2_catalog):
    """Issue 32: the UI takes the user's unlabelled texts (a file upload) as the CLI and chat do;
    a file that cannot be read is refused by name and nothing taken before is lost."""
    script = write_script(tmp_path / "chat.jsonl", [task_reply(["neg", "pos"])])
    session = Session(f"scripted:{script}", tmp_path / "runs", [str(sst2_catalog)])
    inbox = tmp_path / "inbox.txt"
    inbox.write_text("the plot drags on and on\nI loved every minute\n\n")
    assert "Took 2 unlabelled texts" in session.add_unlabelled(str(inbox))
    rows = tmp_path / "rows.jsonl"
    rows.write_text('{"text": "a tedious mess"}\n{"label": 1}\n')
    refused = session.add_unlabelled(str(rows))
    assert refused.startswith("Not taken") and "rows.jsonl:2" in refused
    session.reply("classify reviews as neg or pos")
    session.reply("0.9")
    session.reply("run")
    run = next((tmp_path / "runs").iterdir())
    assert json.loads((run / "task.json").read_text())["unlabelled"] == ["the plot drags on and on",
                                                                         "I loved every minute"]
    from p2m.ui import ACTIVE

    ACTIVE[run.name].join(timeout=120)


def test_the_trace_tab_follows_a_run_live(runs_dir):
    """Issue 36: a running run's steps as they happen; a finished one says so."""
    from p2m.ui import live_view

    rows, now = live_view(runs_dir, "finished")
    assert rows and now.startswith("**finished after ")
    assert live_view(runs_dir, "../elsewhere") == ([], f"no run named '../elsewhere' under {runs_dir}")


def test_the_runs_tab_compares_runs_side_by_side(runs_dir):
    """Issue 36 item 4: two runs' metrics on the gold rows they share, rows by source, decisions."""
    import shutil

    from p2m.ui import COMPARE_HEADERS, compare_table

    shutil.copytree(runs_dir / "finished", runs_dir / "twin")
    rows, said = compare_table(runs_dir, ["finished", "twin"])
    assert said.startswith("60 gold rows shared") and [r[0] for r in rows] == ["finished", "twin"]
    assert len(rows[0]) == len(COMPARE_HEADERS) and rows[0][2] == rows[1][2]
    assert compare_table(runs_dir, ["finished"])[1] == "not compared: compare needs two runs or more"
    assert "no run named '../x'" in compare_table(runs_dir, ["finished", "../x"])[1]


def test_the_chat_goes_back_to_a_step_of_its_run_with_more_examples(runs_dir):
    """Issue 36 item 5: "go back to before the second step and add these examples" forks the
    chat's last run there, with them."""
    session = Session("none", runs_dir, [])
    assert "Went back" not in session.reply("go back to before the second step")  # no run yet: a task description
    session.last_run = runs_dir / "finished"
    said = session.reply("Go back to before the second step and add these examples:\n"
                         "a tender, luminous film => positive\nsheer tedium => negative")
    assert said.startswith("Went back to before step 2 of **finished** with 2 more demonstrations")
    fork = session.last_run
    assert fork.name.startswith("finished-fork2-") and len(RunDir(fork).task().examples) == 2
    from p2m.ui import ACTIVE
    ACTIVE[fork.name].join(600)  # the fork runs to its end
    report = RunDir(fork).report()
    assert report is not None and report["n_user"] == 2
    assert "I could not go back" in session.reply("go back to before the ninth round")
