"""tools/generation/row_shapes.py: generated QA and NER rows take their family's structure."""
from p2m.core.schemas import TaskSpec
from p2m.tools.generation.row_shapes import GeneratedPair, GeneratedQA, GeneratedSentence, row_schema, to_pair, type_hint

QA = TaskSpec(instruction="Answer from the context", task_type="extractive_qa")
NER = TaskSpec(instruction="Tag people and places", task_type="ner", labels=["person", "location"])


def test_each_family_asks_for_its_own_structure():
    assert row_schema(QA) is GeneratedQA and row_schema(NER) is GeneratedSentence
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
