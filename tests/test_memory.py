"""The training memory budget: estimates grow with batch and length, plans fit, refusals name numbers."""
import pytest
from transformers import BertConfig, BertForSequenceClassification, Qwen2Config, Qwen2ForCausalLM

from p2m.tools.training.memory import (GB, PROCESS_PEAK_GB, UNCOUNTED_GB, MemoryBudgetError, budget_bytes,
                                      estimate_bytes, plan_memory)


def tiny_lm():
    return Qwen2ForCausalLM(Qwen2Config(vocab_size=5000, hidden_size=32, intermediate_size=64,
                                        num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2))


def test_a_language_model_head_costs_logits_a_task_head_does_not():
    lm = tiny_lm()
    clf = BertForSequenceClassification(BertConfig(vocab_size=5000, hidden_size=32, num_hidden_layers=2,
                                                   num_attention_heads=4, intermediate_size=64))
    lm_step = estimate_bytes(lm, 8, 64) - estimate_bytes(lm, 4, 64)
    clf_step = estimate_bytes(clf, 8, 64) - estimate_bytes(clf, 4, 64)
    assert lm_step - clf_step == 3 * 4 * 64 * 5000 * 4  # 4 more rows' logits, three times over
    assert estimate_bytes(lm, 8, 64, gradient_checkpointing=True) < estimate_bytes(lm, 8, 64)


def test_the_plan_halves_the_batch_and_keeps_the_asked_batch_by_accumulation():
    lm = tiny_lm()
    roomy = plan_memory(lm, 32, 64, budget=100 * GB)
    assert (roomy.batch_size, roomy.grad_accum, roomy.gradient_checkpointing) == (32, 1, False)
    tight = plan_memory(lm, 32, 64, budget=estimate_bytes(lm, 8, 64))
    assert (tight.batch_size, tight.grad_accum) == (8, 4)
    assert tight.trainer_settings()["gradient_accumulation_steps"] == 4
    ckpt = plan_memory(lm, 32, 64, budget=estimate_bytes(lm, 1, 64, True))
    assert ckpt.gradient_checkpointing and ckpt.batch_size == 1 and ckpt.grad_accum == 32


def test_nothing_fits_raises_with_the_numbers(monkeypatch):
    with pytest.raises(MemoryBudgetError, match=r"GiB at batch 1 x 64 tokens.*budget of 0\.0 GiB"):
        plan_memory(tiny_lm(), 32, 64, budget=1000)
    monkeypatch.setenv("P2M_MEMORY_GB", "1.5")
    assert budget_bytes() == int(1.5 * GB)
    monkeypatch.setenv("P2M_MEMORY_GB", "lots")
    with pytest.raises(MemoryBudgetError, match="P2M_MEMORY_GB='lots' is not a number"):
        budget_bytes()


def test_the_0_5b_decoder_at_batch_32_is_estimated_near_what_killed_it():
    """Qwen2.5-0.5B (LoRA) at batch 32 x 192 tokens grew past 24 GB and was killed."""
    import torch

    with torch.device("meta"):
        model = Qwen2ForCausalLM(Qwen2Config(vocab_size=151936, hidden_size=896, intermediate_size=4864,
                                             num_hidden_layers=24, num_attention_heads=14,
                                             num_key_value_heads=2, tie_word_embeddings=True))
    for p in model.parameters():
        p.requires_grad_(False)  # LoRA: the base weights are frozen
    assert 20 * GB < estimate_bytes(model, 32, 192) < 32 * GB
    plan = plan_memory(model, 32, 192, budget=10 * GB)
    assert plan.batch_size <= 8 and plan.batch_size * plan.grad_accum == 32


def test_the_cpu_budget_counts_what_the_process_already_holds_besides_the_model(monkeypatch):
    """A CoNaLa run budgeted its training as if alone (6 GiB beside a loaded teacher): 12.6 GB."""
    import types

    import psutil

    monkeypatch.delenv("P2M_MEMORY_GB", raising=False)
    monkeypatch.setattr(psutil, "virtual_memory", lambda: types.SimpleNamespace(available=100 * GB))
    rss = {"bytes": 1 * GB}
    monkeypatch.setattr(psutil, "Process", lambda: types.SimpleNamespace(
        memory_info=lambda: types.SimpleNamespace(rss=rss["bytes"])))
    lm = tiny_lm()
    weights = sum(p.numel() * p.element_size() for p in lm.parameters())
    alone = budget_bytes(lm)
    assert alone == int((PROCESS_PEAK_GB - UNCOUNTED_GB) * GB - (1 * GB - weights))  # its weights are estimated
    rss["bytes"] = 4 * GB  # a teacher and its caches loaded beside the model
    assert alone - budget_bytes(lm) == 3 * GB
    rss["bytes"] = 9 * GB
    with pytest.raises(MemoryBudgetError, match="under 8 GiB with what it holds already"):
        plan_memory(lm, 32, 64)
