"""Student choice: only models really on disk, by path, Hub name or short name."""
from __future__ import annotations

import pytest

from p2m.schemas import TaskSpec
from p2m.tools.models import MINILM, ModelChoiceError, choose_model

TASK = TaskSpec(instruction="Classify sentiment", labels=["negative", "positive"])


def test_default_is_the_packaged_minilm():
    choice = choose_model(TASK)
    assert choice.name == MINILM and choice.params > 20_000_000


@pytest.mark.parametrize("name", [MINILM, "all-MiniLM-L6-v2"])
def test_the_name_choose_model_returns_is_accepted_back(name):
    assert choose_model(TASK, name).path == choose_model(TASK).path


def test_local_directory_and_fit_checks(tiny_model_dir, tmp_path):
    assert choose_model(TASK, str(tiny_model_dir)).family == "encoder"
    with pytest.raises(ModelChoiceError, match="not on disk"):
        choose_model(TASK, "bert-large-uncased")
    (tmp_path / "config.json").write_text('{"model_type": "gpt2"}')
    with pytest.raises(ModelChoiceError, match="does not fit"):
        choose_model(TASK, str(tmp_path))
