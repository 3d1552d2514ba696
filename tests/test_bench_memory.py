"""bench.memory's child: a few training steps of a family's default student, with the plan used."""
from bench.memory import train_once


def test_one_family_trains_and_reports_its_plan_and_peak(shared):
    got = train_once("classification", shared, rows=40, steps=1)
    assert got["model"].endswith("all-MiniLM-L6-v2") and got["rows"] == 40
    assert "memory plan" in got["plan"] and "'grad_accum'" in got["plan"]
    assert 0.1 < got["peak_rss_gb"] < 8
