"""Language detection for datasets and queries."""
from p2m.tools.retrieval.languages import language_mismatch, languages


def test_language_words_and_name_codes():
    assert languages("A corpus of Urdu news") == {"ur"}
    assert languages("BoolQ translated", "maritaca-ai/boolq_pt") == {"pt"}
    assert languages("Spanish STS", "PlanTL-GOB-ES/sts-es") == {"es"}
    # Codes that are English words are not trusted inside names.
    assert languages("", "it5/datasets") == set() and languages("", "no_robots") == set()


def test_mismatch_rules():
    assert language_mismatch({"ur"}, set())              # the query wants English
    assert not language_mismatch({"en"}, set())
    assert not language_mismatch(set(), set())           # unknown language: no penalty
    assert not language_mismatch({"en", "de", "fr"}, set())  # multilingual
    assert not language_mismatch({"ur"}, {"ur"})
    assert language_mismatch({"en"}, {"ur"})
    assert not language_mismatch({"ur", "en"}, set())


def test_iso_names_and_endonyms_from_pycountry():
    assert languages("Named entity annotated data", "isixhosa_ner_corpus") == {"xh"}
    assert languages("A siSwati corpus") == {"ss"} and languages("Wolof news") == {"wo"}
    # Language names that are also English words are not taken as languages.
    assert languages("ewe lambs and a Latin motto") == set()
