"""Family metrics against hand-computed values."""
from __future__ import annotations

import pytest

from p2m.tools.families.ner.metric import entity_metrics, parse_entities
from p2m.tools.families.text2text.metric import generation_metrics
from p2m.tools.families.extractive_qa.metric import normalize_answer, qa_metrics


def test_squad_normalisation_and_best_of_gold_answers():
    assert normalize_answer("The  Eiffel Tower!") == "eiffel tower"
    m = qa_metrics(["the Eiffel tower", "in Paris France"], [["Eiffel Tower"], ["Lyon", "Paris"]])
    assert m.others["exact_match"] == 0.5
    assert m.value == 0.75  # F1 1.0, and 0.5 for "in paris france" vs "paris" (P 1/3, R 1)


def test_entity_f1_needs_type_and_whole_text():
    preds = ["person: Ada Lovelace; location: London", "none"]
    golds = ["person: Ada Lovelace; location: London Bridge", "group: ACM"]
    m = entity_metrics(preds, golds)
    assert (m.others["precision"], m.others["recall"]) == (0.5, pytest.approx(0.3333, abs=1e-4))
    assert m.value == pytest.approx(0.4, abs=1e-4) and m.per_class["person"]["f1"] == 1.0
    assert parse_entities("none") == [] and parse_entities("a: x ;b: y z") == [("a", "x"), ("b", "y z")]


def test_generation_metrics_exact_and_partial():
    m = generation_metrics(["sorted(l, reverse=True)", "x"], ["sorted(l, reverse=True)", "len(d)"])
    assert m.others["exact_match"] == 0.5 and 0 < m.value < 1 and m.others["rougeL"] == 0.5
    assert m.failures[0]["expected"] == "len(d)"
