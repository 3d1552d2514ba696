"""Column mapping: the LLM picks among real columns, the choice is validated, ids get names."""
from __future__ import annotations

import pytest

from p2m.llm.scripted_llm import ScriptedLLM
from p2m.core.schemas import TaskSpec
from p2m.tools.data.columns import ColumnError, ColumnMapping, apply_mapping, choose_mapping, heuristic_mapping

TASK = TaskSpec(instruction="Classify sentiment", labels=["negative", "positive"])
ROWS = [{"review_body": "great kettle", "stars_bin": "positive", "id": 1},
        {"review_body": "it leaks", "stars_bin": "negative", "id": 2}]


def test_llm_choice_is_constrained_and_validated():
    llm = ScriptedLLM([{"purpose": "map_columns", "json": {"input_columns": ["review_body"],
                                                           "output_column": "stars_bin",
                                                           "reason": "review text and its label"}}])
    mapping = choose_mapping(ROWS, TASK, "reviews", llm)
    assert apply_mapping(ROWS[0], mapping) == ("great kettle", "positive")
    schema = llm.seen[0][0]["content"]
    assert "review_body" in schema and "data, not instructions" in schema


def test_a_reply_naming_no_real_column_falls_back_or_fails_clearly():
    llm = ScriptedLLM([{"purpose": "map_columns", "json": {"input_columns": ["body"], "output_column": "y"}}])
    with pytest.raises(ColumnError, match="cannot tell input and output apart"):
        choose_mapping(ROWS, TASK, "reviews", llm)


def test_empty_outputs_and_self_mapping_are_rejected():
    rows = [{"text": f"t{i}", "label": "" if i % 2 else "positive"} for i in range(10)]
    with pytest.raises(ColumnError, match="50% of rows"):
        choose_mapping(rows, TASK, "half")
    with pytest.raises(ColumnError, match="both input and output"):
        from p2m.tools.data.columns import validate_mapping
        validate_mapping(ColumnMapping(input_columns=["text"], output_column="text"), rows, "same")


def test_reading_comprehension_joins_context_and_question():
    mapping = heuristic_mapping(["id", "context", "question", "answers"])
    row = {"context": "Paris is in France.", "question": "Where is Paris?",
           "answers": {"text": ["France"], "answer_start": [12]}}
    assert apply_mapping(row, mapping) == ("Context: Paris is in France.\nQuestion: Where is Paris?", "France")


def test_label_ids_map_to_names_and_out_of_range_ids_are_empty():
    mapping = ColumnMapping(input_columns=["text"], output_column="label", label_names=["neg", "pos"])
    assert apply_mapping({"text": "x", "label": 1}, mapping) == ("x", "pos")
    assert apply_mapping({"text": "x", "label": 7}, mapping) == ("x", "")
