"""Which natural languages a dataset or a task names, so retrieval can respect the user's language.

A catalog mixes datasets in many languages; a task written in English that names no language wants
English data. Languages are found as language words in the text ("Urdu", "Spanish") and ISO codes
among the tokens of the dataset's name (`maritaca-ai/boolq_pt`, `PlanTL-GOB-ES/sts-es`). The
language words are the ISO 639-1 names from pycountry plus endonyms such as "isiZulu".
"""
from __future__ import annotations

import re

# Names of languages that are also ordinary English words (or too short to trust) are left out.
_NOT_LANGUAGE_WORDS = {"afar", "cree", "ewe", "ganda", "ido", "latin", "motu", "pali", "slavic",
                       "yi"}
# Other spellings and endonyms the ISO names miss, notably the prefixed South African names
# ("isiXhosa", "siSwati") that dataset names use.
_ALIASES = {
    "bangla": "bn", "brazilian": "pt", "cantonese": "yue", "farsi": "fa", "filipino": "tl",
    "isindebele": "nr", "isixhosa": "xh", "isizulu": "zu", "kiswahili": "sw", "kyrgyz": "ky",
    "mandarin": "zh", "myanmar": "my", "pashto": "ps", "punjabi": "pa", "sepedi": "nso",
    "sesotho": "st", "setswana": "tn", "siswati": "ss", "slovene": "sl", "tshivenda": "ve",
    "uyghur": "ug", "xitsonga": "ts", "greek": "el",
}


def _language_words() -> dict[str, str]:
    """Lower-case language name -> ISO 639-1 code, from pycountry's ISO 639 tables."""
    import pycountry

    words = {}
    for lang in pycountry.languages:
        code = getattr(lang, "alpha_2", None)
        if not code:
            continue
        # "Southern Sotho" -> "sotho", "Modern Greek (1453-)" -> "greek"
        word = re.sub(r"\(.*?\)", "", lang.name).split()[-1].lower()
        if word not in _NOT_LANGUAGE_WORDS:
            words[word] = code
    return {**words, **_ALIASES}


LANGUAGE_WORDS = _language_words()
# ISO codes trusted as tokens of a dataset's name: the languages datasets are commonly named by,
# less codes that are also English words or common name parts ("it", "no", "is", "id").
_NAME_CODES = {c: c for c in (
    "af ar az bg bn bs ca cs cy da de el en es et eu fa fi fr gl gu he hi hr hu hy ig ja jv ka kk "
    "km kn ko lb lt lv mk ml mn mr ms nl pa pl pt ro ru rw sk sl sq sr sv sw ta te th tl tr tt uk "
    "ur uz vi xh yo yue zh zu").split()}
_NAME_CODES.update({"kor": "ko", "jp": "ja", "cn": "zh", "ptbr": "pt", "vn": "vi"})
_WORD = re.compile(r"[a-z]+")
_NAME_SPLIT = re.compile(r"[_\-/.]")
MULTILINGUAL_FROM = 3  # naming this many languages makes a dataset multilingual


def languages(text: str, name: str = "") -> set[str]:
    """ISO codes of the languages `text` and `name` name, plus ISO codes among `name`'s tokens."""
    words = _WORD.findall(f"{text} {name}".lower())
    found = {LANGUAGE_WORDS[w] for w in words if w in LANGUAGE_WORDS}
    found |= {_NAME_CODES[t] for t in _NAME_SPLIT.split(name.lower()) if t in _NAME_CODES}
    return found


def language_mismatch(dataset_langs: set[str], query_langs: set[str]) -> bool:
    """True when a dataset is clearly in a language the query does not ask for.

    A query naming no language wants English. Datasets naming no language, or many
    (multilingual), never mismatch.
    """
    if not dataset_langs or len(dataset_langs) >= MULTILINGUAL_FROM:
        return False
    wanted = (query_langs - {"en"}) or {"en"}
    return not (dataset_langs & wanted)
