"""Canonical wording: colloquial and misspelt phrases mapped to the words catalogues use."""

from collections.abc import Callable

from nlu.normalize import normalize
from nlu.training import TrainingData

LOOKUP_IGNORED = frozenset("de del la el los las para por a en mi".split())


class Lexicon:
    def __init__(self, data: TrainingData, word: Callable[[str], str] = str) -> None:
        """`word` transforms each word of the phrases (a stemmer, say), as it will the text."""

        def form(text: str) -> str:
            return " ".join(word(w) for w in normalize(text).split())

        pairs = [
            (form(variant), form(canonical))
            for canonical, variants in data.synonyms.items()
            for variant in variants
        ]
        pairs = [(v, c) for v, c in pairs if v and v != c]
        pairs.sort(key=lambda p: -len(p[0]))  # longest phrase first
        # by first word: each word of a message looks up only the phrases it can start
        self._by_first: dict[str, list[tuple[list[str], str]]] = {}
        seen: set[str] = set()
        for variant, canonical in pairs:
            if variant not in seen:
                seen.add(variant)
                words = variant.split()
                self._by_first.setdefault(words[0], []).append((words, canonical))
        self.lookups = {
            name: [
                (entry, tuple(w for w in form(entry).split() if w not in LOOKUP_IGNORED))
                for entry in values
            ]
            for name, values in data.lookups.items()
        }
        self._form = form
        self._word = word

    def canonical(self, words: str) -> str:
        """`words` normalised; every known variant replaced by its canonical form."""
        once = self._replace(words.split())
        if once is None:
            return words
        # a second pass for phrases made by the first: "tumbar un alamo" -> "tumbar un arbol"
        twice = self._replace(once)
        return " ".join(once if twice is None else twice)

    def _replace(self, said: list[str]) -> list[str] | None:
        """`said` with every variant replaced, the longest one starting at each word first
        and left to right; None when nothing was replaced."""
        if self._by_first.keys().isdisjoint(said):
            return None
        out: list[str] = []
        at = 0
        while at < len(said):
            for variant, canonical in self._by_first.get(said[at], ()):
                if said[at : at + len(variant)] == variant:
                    out.extend(canonical.split())
                    at += len(variant)
                    break
            else:
                out.append(said[at])
                at += 1
        return out

    def lookup(self, name: str, text: str) -> str | None:
        """The first entry of lookup table `name` said in `text`: its words in order, with at
        most one other word between two of them besides articles and prepositions ("placas
        nuevas de la troca"), so "curso de manejo ... pa la licencia" is not "licencia de
        manejo"."""
        said = [w for w in self._form(text).split() if w not in LOOKUP_IGNORED]
        present = set(said)
        for entry, words in self.lookups.get(name, []):
            if words and present.issuperset(words) and _in_order(words, said):
                return entry
        return None

    def lookup_all(self, name: str, text: str) -> list[str]:
        """Every entry of lookup table `name` said in `text`, in the table's order."""
        said = [w for w in self._form(text).split() if w not in LOOKUP_IGNORED]
        present = set(said)
        return [
            entry
            for entry, words in self.lookups.get(name, [])
            if words and present.issuperset(words) and _in_order(words, said)
        ]

    def preceding(self, entry: str, text: str, n: int) -> list[str]:
        """Up to `n` words of `text` (normalised) just before lookup entry `entry` appears."""
        words = self._form(text).split()
        content = set(self._form(entry).split()) - LOOKUP_IGNORED
        at = next((i for i, w in enumerate(words) if w in content), 0)
        return words[max(0, at - n) : at]

    def following(self, entry: str, text: str, n: int) -> list[str]:
        """Up to `n` words of `text` (normalised) just after lookup entry `entry` appears."""
        words = self._form(text).split()
        content = set(self._form(entry).split()) - LOOKUP_IGNORED
        at = max((i for i, w in enumerate(words) if w in content), default=len(words))
        return words[at + 1 : at + 1 + n]

    def without(self, entries: str | list[str], text: str) -> str:
        """`text` (normalised) without the words of lookup entry or entries `entries`."""
        listed = [entries] if isinstance(entries, str) else entries
        content = {w for e in listed for w in self._form(e).split()} - LOOKUP_IGNORED
        return " ".join(w for w in normalize(text).split() if self._word(w) not in content)


def _in_order(words: tuple[str, ...], said: list[str], gap: int = 1) -> bool:
    """Whether `words` appear in `said` in order, at most `gap` words apart."""
    for start, w in enumerate(said):
        if w != words[0]:
            continue
        at = start
        for nxt in words[1:]:
            window = said[at + 1 : at + 2 + gap]
            if nxt not in window:
                break
            at = at + 1 + window.index(nxt)
        else:
            return True
    return False
