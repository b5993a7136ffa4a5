"""Topics of municipal business (nlu/data/topics.yml), and which of them a catalogue covers.

A message that names a topic no entry of the catalogue covers ("una fosa en el panteón"
where there is no cemetery, "el semáforo está apagado" where there are no traffic lights) is
about something the catalogue lacks, even when it shares other words with an entry
("municipal", "apagado", "permiso"). Works for any catalogue: coverage is read from its
entries when the model is built.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import yaml

from nlu.normalize import normalize
from nlu.procedures import ProcedureIndex, infinitive, stem
from nlu.understanding import ProcedureEntry

TOPICS_FILE = Path(__file__).resolve().parent / "data" / "topics.yml"
# skipped when matching a keyword: "silla de ruedas" is said as "sillas de ruedas"
FUNCTION = frozenset("de del la el los las lo un una unos unas mi mis su sus tu tus".split())
DETERMINERS = FUNCTION | frozenset("este esta ese esa aquel aquella".split())
# a keyword right after these (and determiners) says where something is, not what it is
# about: "un bache enfrente del panteón", "una fosa en el panteón"
PLACE = frozenset(
    """en al frente enfrente junto cerca detras atras afuera adentro dentro lado esquina
    calle avenida av blvd boulevard col colonia fraccionamiento fracc barrio rumbo hacia
    entre hasta""".split()
)
PURPOSE = frozenset("para pa pal".split())  # "la constancia pa la beca": what it is for
# ... but a permit "pa" something is a permit of that kind: "permiso pa demoler"
PERMITS = frozenset("permiso licencia autorizacion concesion anuencia".split())
KIND = re.compile(r"^\w+ del? \w")  # "acta de nacimiento", "clases de costura"


@dataclass(frozen=True)
class Mention:
    topic: int
    keyword: str  # as the topics file writes it
    for_purpose: bool  # said as what something is for ("pa la beca")


class Topics:
    def __init__(
        self,
        index: ProcedureIndex,
        procedures: Iterable[ProcedureEntry],
        path: Path = TOPICS_FILE,
    ) -> None:
        entries = yaml.safe_load(path.read_text(encoding="utf-8")) or []
        keywords: list[tuple[tuple[str, ...], int, str]] = []
        for number, entry in enumerate(entries):
            for keyword in entry["keywords"]:
                words = _content(str(keyword))
                if words:
                    keywords.append((words, number, str(keyword)))
        keywords.sort(key=lambda k: -len(k[0]))  # longest first: "fosa septica" before "fosa"
        self._by_first: dict[str, list[tuple[tuple[str, ...], int, str]]] = {}
        for k in keywords:
            self._by_first.setdefault(k[0][0], []).append(k)
        # each entry's texts, content words only, to find a keyword of several words said
        # together ("curso de manejo" is not "manejo de extintores" in a first-aid course)
        # (not its requirements: "certificado medico de defuncion" among what registering a
        # death asks for does not make the catalogue issue medical certificates)
        texts = {
            p.id: [f" {' '.join(_content(t))} " for t in (p.name, *p.synonyms, p.description)]
            for p in procedures
        }
        # the procedures whose entries use some keyword of each topic
        self._covered: dict[int, set[str]] = {}
        # who uses each keyword that names a kind ("acta de nacimiento")
        self._users: dict[tuple[int, tuple[str, ...]], set[str]] = {}
        for words, number, written in keywords:
            users = {pid for pid in texts if _uses(index, pid, texts[pid], words)}
            self._covered.setdefault(number, set()).update(users)
            if KIND.search(normalize(written)):  # "acta de nacimiento": a kind of acta
                self._users[(number, words)] = users

    def mentioned(self, text: str) -> list[Mention]:
        """The topics `text` names, each once, in the order said, leaving out keywords that
        only say where something is ("enfrente del panteón")."""
        tokens = [stem(w) for w in normalize(text).split()]
        if self._by_first.keys().isdisjoint(tokens):
            return []
        content = [i for i, t in enumerate(tokens) if t not in FUNCTION]
        said = [tokens[i] for i in content]
        found: list[Mention] = []
        at = 0
        while at < len(said):
            match = next(
                (
                    k
                    for k in self._by_first.get(said[at], ())
                    if tuple(said[at : at + len(k[0])]) == k[0]
                ),
                None,
            )
            if match is None:
                at += 1
                continue
            words, number, keyword = match
            start = content[at]
            at += len(words)
            if not _placed(tokens, start) and all(m.topic != number for m in found):
                # "pa levantar el acta de defuncion" asks to do that, not what a paper is for
                purpose = _for_purpose(tokens, start) and not infinitive(tokens[start])
                found.append(Mention(number, keyword, purpose))
        return found

    def covered(self, topic: int) -> bool:
        """Whether some entry of the catalogue uses a keyword of `topic`."""
        return bool(self._covered.get(topic))

    def names_another_kind(self, procedure_id: str, topic: int, keyword: str) -> bool:
        """Whether the procedure's entry uses a keyword of `topic` with the same head as
        `keyword` and another kind ("acta de nacimiento" against "acta de defuncion"): then
        the entry is for that kind, not for the whole topic."""
        words = _content(keyword)
        if not KIND.search(normalize(keyword)):
            return False
        return any(
            other != words and other[:1] == words[:1] and procedure_id in users
            for (number, other), users in self._users.items()
            if number == topic and len(other) > 1 and len(words) > 1
        )

    def entries(self, topic: int) -> frozenset[str]:
        """The procedures whose entries use a keyword of `topic`."""
        return frozenset(self._covered.get(topic, ()))

    def explains(self, procedure_id: str, topic: int) -> bool:
        """Whether the procedure's entry uses a keyword of `topic`."""
        return procedure_id in self._covered.get(topic, ())


def _uses(index: ProcedureIndex, pid: str, texts: list[str], words: tuple[str, ...]) -> bool:
    """Whether an entry uses a keyword: a word in any form the index knows it by, several
    words together in one of its texts."""
    if len(words) == 1:
        return index.uses(pid, words, requirements=False)
    phrase = f" {' '.join(words)} "
    return any(phrase in t for t in texts)


def _content(text: str) -> tuple[str, ...]:
    return tuple(stem(w) for w in normalize(text).split() if w not in FUNCTION)


def _before(tokens: list[str], start: int) -> int:
    """The position of the word before `start`, past determiners and "de"."""
    at = start - 1
    while at >= 0 and tokens[at] in DETERMINERS:
        at -= 1
    return at


def _placed(tokens: list[str], start: int) -> bool:
    at = _before(tokens, start)
    return at >= 0 and tokens[at] in PLACE


def _for_purpose(tokens: list[str], start: int) -> bool:
    """Whether "pa"/"para" comes at most one word (past determiners) before `start` ("pa
    la beca", "para sacar la licencia de manejo"), and not right after a permit ("permiso
    pa vender cerveza" asks for that permit)."""
    at = _before(tokens, start)
    if at > 0 and tokens[at] not in PURPOSE:
        at -= 1
    if at < 0 or tokens[at] not in PURPOSE:
        return False
    head = _before(tokens, at)
    return head < 0 or tokens[head] not in PERMITS
