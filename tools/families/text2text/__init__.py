"""Text to text: a decoder tuned with LoRA; chrF++ / ROUGE-L / exact match; the output of the
most similar demonstration as the baseline."""
from __future__ import annotations

from typing import Any

from p2m.core.schemas import Example, TaskSpec
from p2m.tools.families.text2text.model import MAX_LENGTH
from p2m.tools.families.base import Family, lazy, register, scorer, trainer
from p2m.tools.encoders.embed import embed


def fit_baseline(task: TaskSpec, demos: list[Example]) -> dict[str, Any]:
    return {"demos": [[d.input, d.output] for d in demos]}


def predict_baseline(spec: dict[str, Any], texts: list[str]) -> list[str]:
    demos = spec["demos"]
    nearest = (embed(texts) @ embed([d[0] for d in demos]).T).argmax(axis=1)
    return [demos[int(i)][1] for i in nearest]


FAMILY = register(Family(
    name="text2text",
    train=trainer("p2m.tools.families.text2text.model:train_seq2seq"),
    predict=lazy("p2m.tools.families.text2text.model:predict_seq2seq"),
    score=scorer("p2m.tools.families.text2text.metric:generation_metrics"),
    fit_baseline=fit_baseline,
    predict_baseline=predict_baseline,
    max_length=MAX_LENGTH,
    parse_hint="write free text or code",
    search_words="text to text generation",
    hub_tags=("summarization", "text2text-generation", "translation"),
    pipeline_tag="text-generation",
    encoder=False,
    default_metric="chrf",
    aliases=("text2code", "generation"),
))
