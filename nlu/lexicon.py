"""Canonical wording: colloquial and misspelt phrases mapped to the words catalogues use."""

import re

from nlu.normalize import normalize
from nlu.training import TrainingData


class Lexicon:
    def __init__(self, data: TrainingData) -> None:
        pairs = [
            (normalize(variant), normalize(canonical))
            for canonical, variants in data.synonyms.items()
            for variant in variants
        ]
        pairs = [(v, c) for v, c in pairs if v and v != c]
        pairs.sort(key=lambda p: -len(p[0]))  # longest phrase first
        self._canonical = dict(pairs)
        self._pattern = (
            re.compile(r"\b(" + "|".join(re.escape(v) for v, _ in pairs) + r")\b")
            if pairs
            else None
        )
        self.lookups = {
            name: sorted({normalize(x) for x in values}, key=len, reverse=True)
            for name, values in data.lookups.items()
        }

    def canonical(self, words: str) -> str:
        """`words` normalised; every known variant replaced by its canonical form."""
        if self._pattern is None:
            return words
        return self._pattern.sub(lambda m: self._canonical[m.group(1)], words)

    def lookup(self, name: str, words: str) -> str | None:
        """The first entry of lookup table `name` found as whole words in `words`."""
        padded = f" {words} "
        return next((e for e in self.lookups.get(name, []) if f" {e} " in padded), None)
