"""Which natural languages a dataset or a task names, so retrieval can respect the user's language.

A catalog mixes datasets in many languages; a task written in English that names no language wants
English data. Languages are found as language words in the text ("Urdu", "Spanish") and ISO codes
among the tokens of the dataset's name (`maritaca-ai/boolq_pt`, `PlanTL-GOB-ES/sts-es`).
"""
from __future__ import annotations

import re

LANGUAGE_WORDS = {
    "afrikaans": "af", "albanian": "sq", "amharic": "am", "arabic": "ar", "armenian": "hy",
    "azerbaijani": "az", "bangla": "bn", "basque": "eu", "bengali": "bn", "bosnian": "bs",
    "brazilian": "pt", "bulgarian": "bg", "burmese": "my", "cantonese": "yue", "catalan": "ca",
    "chinese": "zh", "croatian": "hr", "czech": "cs", "danish": "da", "dutch": "nl",
    "english": "en", "estonian": "et", "farsi": "fa", "filipino": "tl", "finnish": "fi",
    "french": "fr", "galician": "gl", "georgian": "ka", "german": "de", "greek": "el",
    "gujarati": "gu", "hausa": "ha", "hebrew": "he", "hindi": "hi", "hungarian": "hu",
    "icelandic": "is", "igbo": "ig", "indonesian": "id", "irish": "ga", "italian": "it",
    "japanese": "ja", "javanese": "jv", "kannada": "kn", "kazakh": "kk", "khmer": "km",
    "kinyarwanda": "rw", "korean": "ko", "latvian": "lv", "lithuanian": "lt",
    "luxembourgish": "lb", "macedonian": "mk", "malay": "ms", "malayalam": "ml", "maltese": "mt",
    "mandarin": "zh", "marathi": "mr", "mongolian": "mn", "myanmar": "my", "nepali": "ne",
    "norwegian": "no", "persian": "fa", "polish": "pl", "portuguese": "pt", "punjabi": "pa",
    "romanian": "ro", "russian": "ru", "serbian": "sr", "sinhala": "si", "slovak": "sk",
    "slovene": "sl", "slovenian": "sl", "somali": "so", "spanish": "es", "swahili": "sw",
    "swedish": "sv", "tagalog": "tl", "tamil": "ta", "tatar": "tt", "telugu": "te", "thai": "th",
    "turkish": "tr", "ukrainian": "uk", "urdu": "ur", "uzbek": "uz", "vietnamese": "vi",
    "welsh": "cy", "xhosa": "xh", "yoruba": "yo", "zulu": "zu",
}
# Codes that are also English words or common name parts are not trusted inside names.
_AMBIGUOUS = {"am", "as", "be", "ga", "ha", "id", "is", "it", "me", "mt", "my", "ne", "no", "si",
              "so"}
_NAME_CODES = {c: c for c in LANGUAGE_WORDS.values() if c not in _AMBIGUOUS}
_NAME_CODES.update({"kor": "ko", "jp": "ja", "cn": "zh", "ptbr": "pt", "vn": "vi"})
_WORD = re.compile(r"[a-z]+")
_NAME_SPLIT = re.compile(r"[_\-/.]")
MULTILINGUAL_FROM = 3  # naming this many languages makes a dataset multilingual


def languages(text: str, name: str = "") -> set[str]:
    """ISO codes of the languages `text` names, plus codes found among the tokens of `name`."""
    found = {LANGUAGE_WORDS[w] for w in _WORD.findall(text.lower()) if w in LANGUAGE_WORDS}
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
