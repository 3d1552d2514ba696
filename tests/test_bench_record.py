"""bench/record.py: the commit of a figure and its JSON lines kept."""
import json

from bench.record import append, commit


def test_lines_are_appended_in_a_folder_made_when_missing(tmp_path):
    path = tmp_path / "results" / "x.jsonl"
    append(path, {"a": 1})
    append(path, {"a": 2}, {"a": 3})
    assert [json.loads(line)["a"] for line in path.read_text().splitlines()] == [1, 2, 3]
    assert commit() and " " not in commit()
