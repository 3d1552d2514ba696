"""p2m compare: runs side by side on the gold rows they share."""
import json

import pytest

from p2m.cli import main
from p2m.compare import compare_runs
from p2m.runfolder.rundir import RunDir, RunError


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory, finish_tiny_sst2_run):
    root = tmp_path_factory.mktemp("compare")
    return finish_tiny_sst2_run(root / "a"), finish_tiny_sst2_run(root / "b")


def test_two_runs_side_by_side_on_their_shared_gold_rows(two_runs, capsys):
    a, b = two_runs
    result = compare_runs([a, b])
    assert result["shared_gold_rows"] == 60 and result["metric"] == "accuracy"
    for row, run in zip(result["runs"], (a, b)):
        report = RunDir(run).report()
        assert row["run"] == str(run) and row["published"] == report["published"]
        published = report["metric"]["value"]
        assert row["on_shared_rows"]["published"] == pytest.approx(published)  # all test rows are shared
        assert row["decisions"][0] == "search_datasets" and "evaluate" in row["decisions"]
        assert row["rows"]["n_retrieved"] == report["n_retrieved"] and row["llm_calls"] == 0
    assert main(["compare", str(a), str(b), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["shared_gold_rows"] == 60
    assert main(["compare", str(a), str(b)]) == 0
    assert "60 gold rows shared" in capsys.readouterr().out


def test_compare_refuses_what_does_not_compare(two_runs, tmp_path):
    a, b = two_runs
    with pytest.raises(RunError, match="two runs or more"):
        compare_runs([a])
    with pytest.raises(RunError, match="is not a p2m run"):
        compare_runs([a, tmp_path])
    other = tmp_path / "other"
    RunDir(other).create(RunDir(a).task().model_copy(update={"task_type": "text2text", "labels": None}),
                         RunDir(a).config())
    with pytest.raises(RunError, match="different families"):
        compare_runs([a, other])
    unfinished = tmp_path / "unfinished"
    RunDir(unfinished).create(RunDir(a).task(), RunDir(a).config())
    with pytest.raises(RunError, match="has not finished"):
        compare_runs([a, unfinished])
