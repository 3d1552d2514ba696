"""tools/generation/row_shapes.py: generated QA and NER rows take their family's structure."""
import pytest
from pydantic import ValidationError

from p2m.core.schemas import TaskSpec
from p2m.tools.generation.row_shapes import GeneratedPair, GeneratedQA, GeneratedSentence, row_schema, to_pair, type_hint

QA = TaskSpec(instruction="Answer from the context", task_type="extractive_qa")
NER = TaskSpec(instruction="Tag people and places", task_type="ner", labels=["person", "location"])


def test_each_family_asks_for_its_own_structure():
    assert row_schema(QA) is GeneratedQA and issubclass(row_schema(NER), GeneratedSentence)
    assert row_schema(TaskSpec(instruction="Tag names", task_type="ner")) is GeneratedSentence  # no types known
    assert row_schema(TaskSpec(instruction="Translate", task_type="text2text")) is GeneratedPair
    assert set(GeneratedQA.model_json_schema()["properties"]) == {"context", "question", "answer"}


def test_replies_become_pairs_in_the_family_format():
    qa = GeneratedQA(context=" Ada lived in London. ", question="Where did Ada live?", answer=" London ")
    assert to_pair(qa) == ("Context: Ada lived in London.\nQuestion: Where did Ada live?", "London")
    ner = GeneratedSentence.model_validate({"sentence": "Ada met Charles in London",
                                            "entities": [{"type": "Person", "text": "Ada"},
                                                         {"type": "location", "text": " London "},
                                                         {"type": "", "text": "x"}]})
    assert to_pair(ner) == ("Ada met Charles in London", "person: Ada; location: London")
    assert to_pair(GeneratedSentence(sentence="Nothing here", entities=[])) == ("Nothing here", "none")
    assert type_hint(NER) == "Entity types: location, person." and type_hint(QA) is None


def test_a_generated_mention_takes_one_of_the_tasks_entity_types():
    """WNUT-17's first round lost 11 rows of 80 to types the task does not know ("company" for
    "corporation"): the schema's enum, which a grammar enforces, leaves the generator no other."""
    schema = row_schema(NER)
    mention = schema.model_json_schema()["$defs"]["Mention"]["properties"]["type"]
    assert mention["enum"] == ["location", "person"]
    row = schema.model_validate({"sentence": "Ada lived in London", "entities": [{"type": "location", "text": "London"}]})
    assert to_pair(row) == ("Ada lived in London", "location: London")
    with pytest.raises(ValidationError):
        schema.model_validate({"sentence": "Acme hired Ada", "entities": [{"type": "company", "text": "Acme"}]})
    assert row_schema(NER) is schema  # one model per set of types
