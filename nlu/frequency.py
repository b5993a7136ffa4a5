"""How common a word is in Spanish or English, from wordfreq's lists (shipped in its wheel).

A word the catalogue never uses is not always noise: "fosa", "semaforo" or "cerveza" are real
words, and say the message is about something the catalogue lacks; "nesesito", "divorsio"
or a street slang the lists barely know say nothing of the kind. Words are looked up without
accents ("panteon" is "panteón"), as the rest of understanding reads them.
"""

import re
from functools import lru_cache

LANGUAGES = ("es", "en")
MIN_ZIPF = 2.3  # rarer than about one in five million words: a typo, a name or slang
_PLAIN = str.maketrans("áéíóúüàèìòùâêîôûäëïöç", "aeiouuaeiouaeiouaeioc")
_WORD = re.compile(r"[a-zñ]+")


@lru_cache(maxsize=1)
def _table() -> dict[str, float]:
    """Every word of the lists at least MIN_ZIPF common, without accents, with its Zipf
    frequency (log10 of uses per billion words) in the language that uses it most. Built
    once per process (about a third of a second)."""
    from wordfreq import get_frequency_list

    table: dict[str, float] = {}
    for language in LANGUAGES:
        # bucket `at` holds the words of frequency 10^(-at/100): Zipf 9 - at/100
        for at, bucket in enumerate(get_frequency_list(language)):
            zipf = 9 - at / 100
            if zipf < MIN_ZIPF:
                break
            for word in bucket:
                plain = word if word.isascii() else word.translate(_PLAIN)
                if plain not in table and _WORD.fullmatch(plain):
                    table[plain] = zipf
    get_frequency_list.cache_clear()  # wordfreq keeps every list otherwise (~130 MB)
    return table


def zipf(word: str) -> float:
    """How common `word` (normalised: lower case, no accents) is: the Zipf frequency, from
    about 8 for "de" down to MIN_ZIPF; 0.0 for a word the lists do not hold that often."""
    return _table().get(word, 0.0)


def load() -> None:
    """Read the lists now (a model does at build time, so no message waits for them)."""
    _table()
