"""Named entities: BIO tags on an encoder's tokens; entity-level F1; a gazetteer of the
demonstrations' mentions as the baseline."""
from __future__ import annotations

import re
from typing import Any

from p2m.core.schemas import Example, TaskSpec
from p2m.tools.families.ner.model import MAX_LENGTH
from p2m.tools.families.base import Family, lazy, register, scorer, trainer
from p2m.tools.families.ner.metric import parse_entities


def fit_baseline(task: TaskSpec, demos: list[Example]) -> dict[str, Any]:
    gazetteer: dict[str, str] = {}
    for d in demos:
        for kind, mention in parse_entities(d.output):
            gazetteer.setdefault(mention, kind)
    return {"gazetteer": gazetteer}


def predict_baseline(spec: dict[str, Any], texts: list[str]) -> list[str]:
    return [gazetteer_tags(text, spec["gazetteer"]) for text in texts]


def gazetteer_tags(text: str, gazetteer: dict[str, str]) -> str:
    """'type: mention; ...' for the known mentions found in `text` (longest first)."""
    found: list[tuple[str, str]] = []
    for mention in sorted(gazetteer, key=len, reverse=True):
        if re.search(rf"(?<!\w){re.escape(mention)}(?!\w)", text) and \
                not any(mention in other for _, other in found):
            found.append((gazetteer[mention], mention))
    return "; ".join(f"{kind}: {mention}" for kind, mention in found) or "none"


FAMILY = register(Family(
    name="ner",
    train=trainer("p2m.tools.families.ner.model:train_ner", labelled=True),
    predict=lazy("p2m.tools.families.ner.model:predict_ner"),
    score=scorer("p2m.tools.families.ner.metric:entity_metrics"),
    fit_baseline=fit_baseline,
    predict_baseline=predict_baseline,
    max_length=MAX_LENGTH,
    parse_hint="list the named entities in the text",
    search_words="named entity recognition",
    hub_tags=("token-classification",),
    pipeline_tag="token-classification",
    export_head="AutoModelForTokenClassification",
    default_metric="entity_f1",
    aliases=("token-classification",),
))
