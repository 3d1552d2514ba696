"""The names of a run's files live in runfolder/run_files.py only: no module spells one out again."""
import re
from pathlib import Path

from p2m.runfolder import run_files

ROOT = Path(__file__).resolve().parents[1]
NAMES = {k: v for k, v in vars(run_files).items() if k.isupper() and isinstance(v, str)}


def test_every_name_is_distinct():
    assert len(set(NAMES.values())) == len(NAMES)


def test_no_module_spells_out_a_run_files_name():
    # folder names ("data", "model") are common words; config.json is also a Hugging Face model's
    files = [n for n in NAMES.values() if "." in n and n != run_files.CONFIG]
    pattern = re.compile(r"""["'](%s)["']""" % "|".join(re.escape(n) for n in files))
    spelled = []
    for folder in ("p2m", "core", "agent", "llm", "runfolder", "tools", "graph"):
        for path in (ROOT / folder).rglob("*.py"):
            if path.name == "run_files.py":
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
                code = line.split("#")[0]
                if pattern.search(code) and "label=" not in code:  # a UI label may name a file
                    spelled.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not spelled, "use the names in runfolder/run_files.py:\n" + "\n".join(spelled)
