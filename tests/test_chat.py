"""`p2m chat` through a pseudo-terminal: questions, a label change mid-way, quitting, resuming."""
from __future__ import annotations

import json
import sys

import pexpect

from p2m.graph.intake import apply_answer, missing


def test_missing_fields_are_asked_in_order():
    draft: dict = {}
    asked = []
    for answer in ("Classify sentiment", "neg, pos", "good => pos\nbad => neg", "0.9"):
        field, _ = missing(draft)
        asked.append(field)
        draft = apply_answer(draft, field, answer)
    assert asked == ["instruction", "labels", "examples", "target"] and missing(draft) is None
    assert draft["target"] == {"metric": "accuracy", "value": 0.9}


def spawn(*args, cwd):
    return pexpect.spawn(sys.executable, ["-m", "p2m.cli", "chat", *args], cwd=str(cwd),
                         encoding="utf-8", timeout=120, env={"HF_HUB_OFFLINE": "1", "OMP_WAIT_POLICY": "PASSIVE",
                                                             "PATH": "/usr/bin:/bin", "P2M_INDEX_DIR": str(cwd / "idx")})


def test_chat_in_a_terminal_changes_labels_and_resumes(tmp_path, sst2_catalog, tiny_model_dir):
    run = tmp_path / "runs" / "chat1"
    child = spawn("--out", str(run), "--llm", "none", "--catalog", str(sst2_catalog),
                  "--model", str(tiny_model_dir), "--epochs", "1", cwd=tmp_path)
    child.expect("What should the model do")
    child.sendline("Classify the sentiment of movie reviews")
    child.expect("Which labels")
    child.sendline("bad, good")
    child.expect("Give two or more examples")
    child.sendline("a wonderful film => good")
    child.sendline("a dull mess => bad")
    child.sendline("")
    child.expect("What score")
    child.sendcontrol("d")  # leave the conversation: it is saved
    child.expect("p2m chat --resume")
    child.expect(pexpect.EOF)

    child = spawn("--resume", str(run), cwd=tmp_path)
    child.expect("What score")
    child.sendline("0.99")
    child.expect("Here is the task")
    child.sendline("labels: negative, positive")  # the user changes the label set
    child.expect("does not hold together yet: .*not in labels")  # the old examples say good/bad
    child.sendline("examples: a moving story => positive")
    child.sendline("a tedious film => negative")
    child.sendline("")
    child.expect("or say 'run'")
    child.sendline("run")
    child.expect("Running", timeout=60)
    child.expect(pexpect.EOF, timeout=600)
    events = [json.loads(line) for line in (run / "trace.jsonl").read_text().splitlines()]
    labels = [e["summary"]["labels"] for e in events if e["kind"] == "task_revision"]
    assert ["bad", "good"] in labels and labels[-1] == ["negative", "positive"]
    assert (run / "report.json").is_file()
    task = json.loads((run / "task.json").read_text())
    assert [e["input"] for e in task["examples"]] == ["a moving story", "a tedious film"]


def test_unlabelled_lines_in_the_chat_join_the_task():
    """Issue 32 item 2: 'unlabelled:' lines in the chat (and the UI) are the user's own inputs."""
    from p2m.graph.intake import summary

    draft = apply_answer({"instruction": "Route tickets"}, "unlabelled", "charged twice\n\napp crashes")
    assert draft["unlabelled"] == ["charged twice", "app crashes"]
    assert "unlabelled texts: 2" in summary(draft)
