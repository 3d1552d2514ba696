"""tools/generation/verify.py: a generated row checked by its family's structure and metric."""
import pytest

from p2m.core.schemas import Example, TaskSpec
from p2m.tools.generation.verify import AGREE, similarity, structural_problem

QA = TaskSpec(instruction="Answer from the context", task_type="extractive_qa")
NER = TaskSpec(instruction="Tag people and places", task_type="ner", labels=["person", "location"])
CODE = TaskSpec(instruction="Python for the instruction", task_type="text2text",
                examples=[{"input": "sort x", "output": "sorted(x)"}])
PROSE = TaskSpec(instruction="Translate to French", task_type="text2text",
                 examples=[{"input": "hello", "output": "bonjour à tous !"}])


def row(text, output):
    return Example(input=text, output=output, source={"kind": "generated"})


@pytest.mark.parametrize("task,text,output,why", [
    (QA, "Context: Paris is in France.\nQuestion: Where is Paris?", "France", None),
    (QA, "Context: Paris is in France.\nQuestion: Where is Paris?", "in europe", "answer_not_in_context"),
    (QA, "Where is Paris?", "France", "no_context_or_question"),
    (NER, "Ada  Lovelace lived in London", "person: Ada Lovelace; location: London", None),
    (NER, "Ada Lovelace lived in London", "person: Charles Babbage", "span_not_in_sentence"),
    (NER, "Ada Lovelace lived in London", "organisation: London", "unknown_entity_type"),
    (NER, "Nothing to see here", "none", None),
    (CODE, "reverse a", "a[::-1]", None),
    (CODE, "reverse a", "a[::-1", "code_does_not_parse"),
    (PROSE, "goodbye", "au revoir (", None),  # prose demonstrations: nothing to parse
])
def test_structure_of_each_family(task, text, output, why):
    assert structural_problem(task, row(text, output)) == why


def test_similarity_by_the_family_metric():
    assert similarity(QA, "the France", "France") == 1.0 and similarity(QA, "Spain", "France") == 0.0
    assert similarity(NER, "person: Ada; location: London", "person: Ada") == pytest.approx(2 / 3)
    assert similarity(NER, "none", "") == 1.0
    same_code = similarity(CODE, '" ".join(words)', "' '.join(words)")
    assert same_code >= AGREE["text2text"] and similarity(CODE, "print(1)", "' '.join(words)") < AGREE["text2text"]
