"""Training and prediction for QA, NER and text-to-text on tiny models built from configs."""
from __future__ import annotations

import pytest

from dataclasses import replace

from p2m.core.config import TrainConfig
from p2m.core.schemas import Example, TaskSpec
from p2m.tools.families import predict_for, score_for, train_for
from p2m.tools.families.ner.model import bio_tags, entities_text
from p2m.tools.families.extractive_qa.model import split_qa

CFG = TrainConfig(epochs=2, min_steps=4, learning_rate=5e-3, val_fraction=0.0, batch_size=8)


def ex(i: str, o: str) -> Example:
    return Example(input=i, output=o, source={"kind": "user"})


@pytest.fixture(scope="module")
def tiny_gpt(tmp_path_factory, tiny_model_dir):
    """A 2-layer GPT-2 with MiniLM's word pieces ([SEP] as end of sequence): a test fixture."""
    from transformers import AutoTokenizer, GPT2Config, GPT2LMHeadModel

    path = tmp_path_factory.mktemp("tiny-gpt")
    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    tok.eos_token = "[SEP]"
    GPT2LMHeadModel(GPT2Config(vocab_size=tok.vocab_size, n_embd=32, n_layer=2, n_head=2,
                               n_positions=256)).save_pretrained(path)
    tok.save_pretrained(path)
    return path


def test_qa_trains_and_answers_with_context_spans(tiny_model_dir, tmp_path):
    task = TaskSpec(instruction="Answer from the context", task_type="extractive_qa")
    rows = [ex(f"Context: The {c} is {w} today.\nQuestion: What colour is the {c}?", w)
            for c, w in [("sky", "blue"), ("grass", "green"), ("sun", "yellow"), ("snow", "white")] * 4]
    result = train_for(task, str(tiny_model_dir), rows, tmp_path, CFG, progress=False)
    preds = predict_for(task, result.path, [r.input for r in rows[:4]])
    for pred, row in zip(preds, rows):
        assert pred in split_qa(row.input)[0]  # an extractive answer is a piece of the context
    assert score_for(task, preds, [r.output for r in rows[:4]]).name == "f1"


def test_ner_round_trip_and_training(tiny_model_dir, tmp_path):
    tokens = "Ada met Bob in Paris".split()
    assert entities_text(tokens, bio_tags(tokens, "person: Ada; person: Bob; location: Paris")) == \
        "person: Ada; person: Bob; location: Paris"
    task = TaskSpec(instruction="Find people", task_type="ner", labels=["person"])
    rows = [ex(f"{n} went home", f"person: {n}") for n in ["Ada", "Bob", "Cy", "Di"] * 4]
    result = train_for(task, str(tiny_model_dir), rows, tmp_path, replace(CFG, max_length=16),
                       progress=False)
    preds = predict_for(task, result.path, ["Ada went home"])
    assert preds[0] == "none" or preds[0].startswith("person:")
    import json

    # TrainConfig.max_length reaches the family's trainer and is kept for prediction
    assert json.loads((tmp_path / "model" / "config.json").read_text())["p2m_max_length"] == 16


def test_every_family_is_registered_once_with_all_its_parts():
    from p2m.core.schemas import DEFAULT_METRIC, TASK_TYPE_ALIASES
    from p2m.tools.families import FAMILIES, family, register

    assert sorted(FAMILIES) == sorted(DEFAULT_METRIC)  # a family's registration makes its task type
    assert {"classification", "extractive_qa", "text2text", "ner"} <= set(FAMILIES)
    assert TASK_TYPE_ALIASES["qa"] == "extractive_qa" and DEFAULT_METRIC["ner"] == "entity_f1"
    for fam in FAMILIES.values():
        assert all(callable(f) for f in (fam.train, fam.predict, fam.score, fam.fit_baseline,
                                         fam.predict_baseline))
        assert fam.max_length > 0 and fam.search_words and fam.pipeline_tag
        assert fam.export_head is None or fam.encoder  # ONNX export loads an encoder with a head
    assert all(FAMILIES[name].export_head for name in ("classification", "extractive_qa", "ner"))
    assert FAMILIES["text2text"].export_head is None and not FAMILIES["text2text"].encoder
    with pytest.raises(ValueError, match="registered twice"):
        register(FAMILIES["ner"])
    with pytest.raises(ValueError, match="known: classification"):
        family("poetry")


def test_text2text_trains_a_decoder_and_generates(tiny_gpt, tmp_path):
    task = TaskSpec(instruction="Reverse a list", task_type="text2text")
    rows = [ex(f"reverse list {v}", f"{v}[::-1]") for v in ["a", "b", "c", "d"] * 4]
    result = train_for(task, str(tiny_gpt), rows, tmp_path, CFG, progress=False)
    preds = predict_for(task, result.path, ["reverse list a"])
    assert isinstance(preds[0], str) and "\n" not in preds[0]
    assert (tmp_path / "model" / "config.json").is_file()


def test_lora_adapters_are_trained_merged_and_reloaded(tiny_gpt, tmp_path):
    import torch
    from transformers import AutoModelForCausalLM

    from p2m.tools.families.text2text.model import train_seq2seq

    rows = [ex(f"double {v}", f"{v} {v}") for v in ["a", "b", "c", "d"] * 4]
    before = AutoModelForCausalLM.from_pretrained(tiny_gpt).state_dict()
    result = train_seq2seq(str(tiny_gpt), rows, tmp_path, replace(CFG, lora=True, lora_r=4),
                           progress=False)  # LoRA switched on by the config, not by size
    after = AutoModelForCausalLM.from_pretrained(result.path).state_dict()
    assert not any("lora" in k for k in after)  # merged into plain weights
    changed = [k for k in before if k in after and not torch.equal(before[k], after[k])]
    assert any("attn" in k for k in changed)    # the adapters changed the attention weights
    assert isinstance(predict_for(TaskSpec(instruction="x", task_type="text2text"), result.path,
                                  ["double a"])[0], str)


def test_the_trained_decoder_is_released_before_its_saved_copy_is_scored(tiny_gpt, tmp_path, monkeypatch):
    """Validation rows are scored from the saved model: the trained one in memory beside it held
    two copies of a 0.5B decoder at once (7.8 GiB with the teacher loaded)."""
    import p2m.tools.families.text2text.model as t2t

    loaded, devices = [], []
    load, score = t2t.load_causal, t2t._score

    def loading(path):
        tokenizer, model = load(path)
        loaded.append(model)
        return tokenizer, model

    def scoring(model_dir, rows):
        devices.append({p.device.type for p in loaded[0].parameters()})
        return score(model_dir, rows)

    monkeypatch.setattr(t2t, "load_causal", loading)
    monkeypatch.setattr(t2t, "_score", scoring)
    pairs = [ex(f"double {v}", f"{v} {v}") for v in ["a", "b", "c", "d"] * 4]
    result = t2t.train_seq2seq(str(tiny_gpt), pairs, tmp_path, CFG, progress=False, val_rows=[ex("double e", "e e")])
    assert devices == [{"meta"}]  # the trained copy holds no weights while the saved one is scored
    assert result.best_val is not None and len(loaded) == 2


def _evaluated(out_dir):
    """The validation losses the Trainer logged (from its last checkpoint's state)."""
    import json

    states = sorted((out_dir / "checkpoints").glob("checkpoint-*/trainer_state.json"))
    return [h["eval_loss"] for h in json.loads(states[-1].read_text())["log_history"] if "eval_loss" in h]


def test_ner_qa_and_lora_text2text_stop_early_on_their_validation_rows(tiny_model_dir, tiny_gpt, tmp_path):
    """Early stopping (TrainConfig.early_stopping_patience) on the validation loss for every
    family, not only classification; the LoRA student still comes back merged."""
    cfg = replace(CFG, epochs=3, early_stopping_patience=1)
    ner = TaskSpec(instruction="Find people", task_type="ner", labels=["person"])
    rows = [ex(f"{n} went home", f"person: {n}") for n in ["Ada", "Bob", "Cy", "Di"] * 4]
    val = [ex("Eve went home", "person: Eve"), ex("Fay went home", "person: Fay")]
    train_for(ner, str(tiny_model_dir), rows, tmp_path / "ner", cfg, progress=False, val_rows=val)
    assert _evaluated(tmp_path / "ner")
    qa = TaskSpec(instruction="Answer from the context", task_type="extractive_qa")
    qa_rows = [ex(f"Context: The {c} is {w} today.\nQuestion: What colour is the {c}?", w)
               for c, w in [("sky", "blue"), ("grass", "green"), ("sun", "yellow")] * 4]
    train_for(qa, str(tiny_model_dir), qa_rows, tmp_path / "qa", cfg, progress=False, val_rows=qa_rows[:2])
    assert _evaluated(tmp_path / "qa")
    t2t = TaskSpec(instruction="Double a word", task_type="text2text")
    pairs = [ex(f"double {v}", f"{v} {v}") for v in ["a", "b", "c", "d"] * 4]
    result = train_for(t2t, str(tiny_gpt), pairs, tmp_path / "t2t", replace(cfg, lora=True), progress=False,
                       val_rows=[ex("double e", "e e")])
    assert _evaluated(tmp_path / "t2t")
    from transformers import AutoModelForCausalLM

    assert not any("lora" in k for k in AutoModelForCausalLM.from_pretrained(result.path).state_dict())
