"""The Gradio app in a real browser: Debian's chromium driven by Playwright (no browser download).

Opens the app, sends a chat message and reads the agent's answer, opens a finished run's trace
and plots, tries the playground, and saves a screenshot of each tab in test-artifacts/ui/.
"""
from __future__ import annotations

import shutil
import socket
from pathlib import Path

import pytest

from p2m import runner
from p2m.core.config import RunConfig
from p2m.core.schemas import TaskSpec
from p2m.ui import build_app, launch

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SHOTS = Path(__file__).resolve().parents[1] / "test-artifacts" / "ui"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def visible(page, selector: str, seconds: int) -> None:
    """Wait until a *visible* element matches (hidden tabs hold copies of some text)."""
    page.locator(f"{selector} >> visible=true").first.wait_for(timeout=seconds * 1000)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def app_url(tmp_path_factory, sst2_catalog, tiny_model_dir):
    if not Path(CHROMIUM).exists():
        pytest.fail("chromium is not installed: `make test` installs Debian's chromium (apt)")
    root = tmp_path_factory.mktemp("ui")
    runs = root / "runs"
    config = RunConfig(llm="none", catalog=[str(sst2_catalog)], model=str(tiny_model_dir))
    config.train.epochs = 1
    config.budget.max_iterations = 1
    task = TaskSpec(instruction="Classify movie review sentiment.", labels=["negative", "positive"])
    runner.create_run(task, config, runs / "sst2-demo")
    runner.execute(runner.open_context(runs / "sst2-demo", progress=False))
    shutil.copytree(runs / "sst2-demo", runs / "sst2-twin")  # a second finished run to compare with
    script = root / "chat.jsonl"
    script.write_text('{"purpose": "parse_task", "json": {"instruction": "Detect spam in SMS messages", '
                      '"task_type": "classification", "labels": ["ham", "spam"], "examples": '
                      '[{"input": "WIN a free cruise now", "output": "spam"}, '
                      '{"input": "see you at 6", "output": "ham"}]}}\n')
    port = free_port()
    app = build_app(runs, llm=f"scripted:{script}")
    launch(app, port=port, block=False)
    yield f"http://127.0.0.1:{port}"
    app.close()


@pytest.fixture(scope="module")
def page(app_url):
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(app_url)
        visible(page, "text=p2m", 30)
        yield page
        browser.close()


def open_run(page, tab: str) -> None:
    """Go to `tab` and pick the finished run in its (visible) Run box."""
    page.get_by_role("tab", name=tab).click()
    run = page.get_by_label("Run").filter(visible=True).first
    run.fill("sst2-demo")
    run.press("Enter")


def test_chat_answers_with_the_task_it_read(page):
    page.get_by_role("tab", name="Chat").click()
    page.get_by_label("Message").fill("I need a spam filter for SMS: ham or spam")
    page.get_by_role("button", name="Send").click()
    visible(page, "text=Detect spam in SMS messages", 30)
    assert page.get_by_text("ham, spam").count() >= 1
    page.screenshot(path=str(SHOTS / "chat.png"), full_page=True)


def test_runs_tab_lists_the_finished_run(page):
    page.get_by_role("tab", name="Runs").click()
    visible(page, "text=sst2-demo", 30)
    assert page.get_by_text("finished").count() >= 1
    page.screenshot(path=str(SHOTS / "runs.png"), full_page=True)


def test_runs_tab_compares_two_runs(page):
    """Issue 36 item 4: runs side by side on the gold rows they share."""
    page.get_by_role("tab", name="Runs").click()
    chooser = page.get_by_label("Runs to compare")
    for name in ("sst2-demo", "sst2-twin"):
        chooser.click()
        page.get_by_role("option", name=name, exact=True).click()
    page.get_by_role("button", name="Compare").click()
    visible(page, "text=gold rows shared by the runs", 30)
    page.screenshot(path=str(SHOTS / "compare.png"), full_page=True)


def test_trace_tab_shows_the_timeline_and_plots(page):
    open_run(page, "Trace")
    page.get_by_role("button", name="Show trace").click()
    visible(page, "text=evaluate", 30)
    visible(page, "img", 30)
    page.screenshot(path=str(SHOTS / "trace.png"), full_page=True)


def test_inspect_tab_opens_a_step_and_the_rows(page):
    """Issue 36: a step opened (what was legal, the guard, the rows added) and the data browsable."""
    open_run(page, "Inspect")
    page.get_by_role("button", name="Open step").click()
    visible(page, "text=legal", 30)
    visible(page, "text=search_datasets", 30)
    page.get_by_role("button", name="Show rows").click()
    visible(page, "text=dataset", 30)
    page.screenshot(path=str(SHOTS / "inspect.png"), full_page=True)


def test_trace_tab_follows_a_run_live(page):
    """Issue 36: the Trace tab refreshes itself while a run goes on; a finished one says so."""
    open_run(page, "Trace")
    page.get_by_label("Follow live (every 2 s)").check()
    visible(page, "text=finished after", 30)
    page.get_by_label("Follow live (every 2 s)").uncheck()


def test_inspect_tab_forks_the_run_at_a_step(page):
    """Issue 36: the UI offers a fork on every step, with more demonstrations."""
    open_run(page, "Inspect")
    page.get_by_label("Step", exact=True).fill("2")
    page.get_by_text("Fork from this step").click()
    page.get_by_label("More demonstrations (one a line: text => output)").fill(
        "a tender, luminous film => positive\nsheer tedium => negative")
    page.get_by_role("button", name="Fork and run").click()
    visible(page, "text=before step 2 into", 60)
    page.screenshot(path=str(SHOTS / "fork.png"), full_page=True)


def test_playground_predicts(page):
    page.get_by_role("tab", name="Playground").click()
    page.get_by_label("Your input").fill("a wonderful, moving film")
    page.get_by_role("button", name="Predict").click()
    student = page.get_by_label("Student (the trained model)")
    page.wait_for_function("(el) => el.value.length > 0", arg=student.element_handle(), timeout=60_000)
    assert student.input_value() in ("negative", "positive")
    assert "no teacher" in page.get_by_label("Teacher LLM").input_value()
    assert page.get_by_label("Who answers in the cascade").input_value().startswith("the ")
    page.screenshot(path=str(SHOTS / "playground.png"), full_page=True)
