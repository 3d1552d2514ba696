import pytest
from pydantic import ValidationError

from p2m.core.schemas import Example, TaskSpec, Target


def test_defaults_and_label_inference():
    spec = TaskSpec(instruction="  Classify  ", examples=[{"input": "a", "output": "x"},
                                                          {"input": "b", "output": "y"}])
    assert spec.instruction == "Classify"
    assert spec.labels == ["x", "y"]
    assert spec.target.metric == "accuracy"


@pytest.mark.parametrize("bad, message", [
    ({"instruction": ""}, "instruction is empty"),
    ({"instruction": "x", "task_type": "poetry"}, "unknown task type"),
    ({"instruction": "x", "labels": ["a", "b"], "examples": [{"input": "i", "output": "c"}]},
     "not in labels"),
    ({"instruction": "x", "labels": ["a", "a"]}, "labels repeat"),
    ({"instruction": "x", "labels": ["a"]}, "at least two labels"),
])
def test_invalid_specs_name_the_problem(bad, message):
    with pytest.raises(ValidationError, match=message):
        TaskSpec(**bad)


def test_task_type_aliases():
    assert TaskSpec(instruction="x", task_type="text2code").task_type == "text2text"


def test_target_range():
    with pytest.raises(ValidationError):
        Target(metric="accuracy", value=1.5)


def test_example_roundtrip():
    ex = Example(input="i", output="o", source={"kind": "user", "row": 0})
    assert Example.model_validate_json(ex.model_dump_json()) == ex
