"""Finding the catalogue procedure a message is about, for any catalogue, without training.

Three signals, all built from the catalogue alone:
- title coverage: how much of a procedure's name or of one of its synonyms the message says
  (rare words weigh more; near spellings count for a bit less);
- title n-grams: character n-gram cosine with names and synonyms (typos, run-together words);
- body coverage: how much of what the message says appears anywhere in the entry (name,
  synonyms, description, requirements), for messages that describe instead of naming.
Words are normalised, lightly stemmed and mapped to canonical wording first.
"""

import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from math import log

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import csr_matrix
from sklearn.feature_extraction.text import TfidfVectorizer

from nlu import frequency
from nlu.lexicon import Lexicon
from nlu.normalize import normalize
from nlu.understanding import Candidate, ProcedureEntry
from nlu.vectors import FastTfidf, SparseVector

STOPWORDS = frozenset(
    """a al ante con de del el en la las lo los mi mis para por que se un una unos unas y o me
    es su sus le les como cual cuales hay quiero necesito ocupo hacer sacar tramitar tramite
    tramites informacion info sobre favor porfa pa q k d xq tmb buenas buenos dias tardes noches
    hola disculpe oiga pregunta saber quisiera puedo puede mas este esta ese esa eso ya
    solicitar solicitud pedir tengo tiene uno una ni si no muy bien ahi aqui alla cuando
    donde todo toda todos nos te tu yo ella el ellos son ser fue va van voy estoy cuanto cuanta
    cuantos cuantas hasta desde todavia año años mes meses dia dias semana semanas hora horas
    sale dos pide piden pido da dan dar darme den hace hacen hago haga hagan ocupa ocupan
    necesita necesitan lleva llevo llevar tres cuatro cinco seis siete ocho nueve diez
    presidencia ayuntamiento alcaldia""".split()
    # English function words (Spanglish: "how much is the predial this year")
    + """the is are was my can could do does did to of for it its on at this that in is how
    what where when which with you your we our be there get got an and or i im this year
    please""".split()
)  # the municipality itself names no procedure ("presidencia" is no typo of "residencia")
WEIGHTS = {"title": 0.35, "chars": 0.15, "body": 0.5}
TITLE_BALANCE = 0.7
UNKNOWN_WORD_WEIGHT = 0.3
FUZZY_MIN = 0.72
REQUIREMENT_WEIGHT = 0.5
# How much a word says about what a message is about, from how common it is (Zipf frequency,
# nlu.frequency): a real word rarer than RARE ("fosa", "semaforo", "cancha") says a lot, a
# common one ("casa", "grande") little, a typo or slang word no list knows almost nothing.
REAL_WORD = 2.3  # rarer than this, a word is a typo, a name or slang
RARE = 4.5
SALIENCE_TOP = 6.5  # salience = SALIENCE_TOP - zipf, between NOISE and 3
NOISE = 0.2
# "constancia de origen" is not "constancia de residencia": a title word followed by "de"
# names what kind of thing it is, unless what follows is the citizen's ("de mi hija")
LINKS = frozenset("de del".split())
ARTICLES = frozenset("la el los las lo un una".split())
OWNERS = frozenset(
    "mi mis su sus tu tus nuestro nuestra municipio municipal gobierno ayuntamiento".split()
    # whose or where, not what kind: "permiso de ustedes", "la numeracion de la calle"
    + "usted ustedes nosotros ellos aqui aca alla calle avenida casa colonia cuadra".split()
)
# "permiso pa quemar cuetes", "licencia pa cazar": a paper asked for an activity is that
# activity's paper; an entry that never speaks of the activity is not it
PURPOSE = frozenset("para pa pal".split())
INFINITIVE = re.compile(r"^\w{2,}(?:ar|er|ir)$")
PURPOSE_WORDS = 3  # the verb and the words after it that say what the activity is


ENCLITIC = re.compile(r"^(\w{3,}(?:ar|er|ir))(?:los|las|les|lo|la|le|nos|se|me)$")


def stem(word: str) -> str:
    """A light Spanish stemmer: plurals (lamparas -> lampara, papeles -> papel, luces -> luz)
    and pronouns joined to an infinitive (registrarla -> registrar, tumbarlo -> tumbar)."""
    joined = ENCLITIC.match(word)
    if joined:
        return joined.group(1)
    if len(word) > 4 and word.endswith("ces"):
        return word[:-3] + "z"
    if len(word) > 4 and word.endswith("es") and word[-3] in "lrndj":
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def infinitive(word: str) -> bool:
    """Whether `word` is a verb's infinitive: it ends like one and its participle is a
    word in use ("derrumbar", "derrumbado"; not "kinder", "kindido")."""
    if not INFINITIVE.match(word):
        return False
    participle = word[:-2] + ("ado" if word.endswith("ar") else "ido")
    return frequency.zipf(participle) > 0


def _trigrams(word: str) -> set[str]:
    padded = f"#{word}#"
    return {padded[i : i + 3] for i in range(len(padded) - 2)}


class ProcedureIndex:
    def __init__(
        self,
        procedures: Sequence[ProcedureEntry],
        lexicon: Lexicon,
        cues: Iterable[str] = (),
        semantic: Callable[[str], NDArray[np.float64]] | None = None,
    ) -> None:
        """`cues` are the phrases that ask about an aspect ("cuanto cuesta", "horario"): they
        say nothing about which procedure is meant, so they are left out of matching, except
        a one-word cue that some procedure's name or synonym uses ("pago", "renovar").
        `semantic`, when given, maps a message to a score to add to each procedure's (in
        catalogue order): sentence embeddings, see nlu/embeddings.py."""
        self.lexicon = lexicon
        self.semantic = semantic
        self.ignore = {stem(w) for w in STOPWORDS}
        phrases = {" ".join(stem(w) for w in normalize(c).split()) for c in cues}
        several = sorted((c for c in phrases if " " in c), key=lambda c: -len(c))
        self._cue_phrases = (
            re.compile(r"\b(?:" + "|".join(re.escape(c) for c in several) + r")\b")
            if several
            else None
        )
        named = {
            stem(w) for p in procedures for t in (p.name, *p.synonyms) for w in normalize(t).split()
        }  # as written, not as the lexicon rewrites them ("papel" is not "requisitos")
        single = {c for c in phrases if " " not in c}
        self.ignore |= single - named
        self._named_cues = single & named  # alone they still only ask ("y donde se paga?")
        self.ids = [p.id for p in procedures]
        titles: list[list[str]] = []
        self._title_owner: list[int] = []
        self._titles = titles
        bodies: list[dict[str, float]] = []
        for index, p in enumerate(procedures):
            for title in (p.name, *p.synonyms):
                titles.append(self.words(title))
                self._title_owner.append(index)
            # a word only the requirements use ("acta", "comprobante") says less about the
            # procedure than one of its name or description: many procedures ask for it
            body = dict.fromkeys(self.words(" ".join(p.requirements)), REQUIREMENT_WEIGHT)
            body.update(
                dict.fromkeys(self.words(" ".join((p.name, *p.synonyms, p.description))), 1.0)
            )
            bodies.append(body)
        n = max(len(procedures), 1)
        title_df: dict[str, set[int]] = defaultdict(set)
        for t, words in enumerate(titles):
            for w in words:
                title_df[w].add(self._title_owner[t])
        self._title_idf = {w: log(1 + n / len(owners)) for w, owners in title_df.items()}
        self._title_postings: dict[str, list[int]] = defaultdict(list)
        for t, words in enumerate(titles):
            for w in set(words):
                self._title_postings[w].append(t)
        self._title_total = [sum(self._title_idf[w] for w in set(ws)) for ws in titles]
        self._body_postings: dict[str, list[int]] = defaultdict(list)
        self._body_weight: dict[tuple[str, int], float] = {}
        for at, body_words in enumerate(bodies):
            for w, weight in body_words.items():
                self._body_postings[w].append(at)
                if weight != 1.0:
                    self._body_weight[w, at] = weight
        self._body_idf = {w: log(1 + n / len(ps)) for w, ps in self._body_postings.items()}
        self._by_trigram: dict[str, set[str]] = defaultdict(set)
        for w in self._body_postings:
            for g in _trigrams(w):
                self._by_trigram[g].add(w)
        self._chars: FastTfidf | None = None
        if titles:
            vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True)
            matrix = vectorizer.fit_transform([" ".join(t) for t in titles])
            self._title_matrix: csr_matrix = matrix.T.tocsr()  # rows are features
            self._chars = FastTfidf(vectorizer)
        self._owners = np.array(self._title_owner)
        self._vocabulary = {  # as written too: "vendedor" of "vendedor ambulante"
            p.id: set(body)
            | set(self._tokens(" ".join((p.name, *p.synonyms, p.description)), False))
            for p, body in zip(procedures, bodies, strict=True)
        }
        self._own_vocabulary = {  # what the entry is about, not the papers it asks for
            p.id: set(self.words(" ".join((p.name, *p.synonyms, p.description))))
            | set(self._tokens(" ".join((p.name, *p.synonyms, p.description)), False))
            for p in procedures
        }
        self._kinds = {p.id: self._kinds_of((p.name, *p.synonyms)) for p in procedures}
        self._title_weights: dict[str, list[tuple[dict[str, float], float]]] = defaultdict(list)
        for words, owner in zip(titles, self._title_owner, strict=True):
            weights = {w: self._title_idf[w] for w in words}
            if weights:
                self._title_weights[self.ids[owner]].append((weights, sum(weights.values())))
        self._heads = {  # "permiso", "licencia", "constancia": what kind of paper a title is
            head
            for p in procedures
            for t in (p.name, *p.synonyms)
            if (head := next((w for w in self._tokens(t, False) if self._content(w)), None))
        }
        self._name_words = {p.id: set(self.words(p.name)) for p in procedures}
        self._title_words = {
            p.id: {w for t in (p.name, *p.synonyms) for w in self.words(t)} for p in procedures
        }

    def _tokens(self, text: str, canonical: bool = True) -> list[str]:
        """Every word of `text`, stemmed and canonical, function words kept."""
        stemmed = " ".join(stem(w) for w in normalize(text).split())
        return (self.lexicon.canonical(stemmed) if canonical else stemmed).split()

    def _kinds_of(self, titles: Iterable[str]) -> dict[str, set[str]]:
        """For each title whose first word is followed by "de", that word and the word after:
        {"constancia": {"residencia", "domicilio"}} for "Constancia de residencia" and
        "constancia de domicilio"."""
        kinds: dict[str, set[str]] = defaultdict(set)
        for title in titles:
            tokens = self._tokens(title, canonical=False)
            at = next((i for i, w in enumerate(tokens) if self._content(w)), len(tokens))
            if at + 1 < len(tokens) and tokens[at + 1] in LINKS:
                kind = self._kind_after(tokens, at)
                if kind:
                    kinds[tokens[at]].add(kind)
        return dict(kinds)

    def _content(self, word: str) -> bool:
        return word not in self.ignore and word not in LINKS and not word.isdigit()

    def _kind_after(self, tokens: list[str], at: int) -> str | None:
        """The content word after `tokens[at]`, "de" and an article ("constancia de la
        escuela" -> escuela); None when it is the citizen's own ("de mi hija")."""
        k = at + 1
        while k < len(tokens) and (
            tokens[k] in LINKS or tokens[k] in ARTICLES or tokens[k] == "no"
        ):
            k += 1  # "carta de no adeudo": the kind is "adeudo"
        if k == len(tokens) or tokens[k] in OWNERS or not self._content(tokens[k]):
            return None
        return tokens[k]

    def other_kind(self, procedure_id: str, text: str) -> str | None:
        """A word of `text` that names another kind of what the procedure is, which the
        procedure's entry never uses: "origen" in "constancia de origen" when the entry is
        "Constancia de residencia", "alcoholes" in "licencia de alcoholes". None when the
        message says no such thing. Works for any catalogue: it reads the entry's titles."""
        kinds = self._kinds[procedure_id]
        if not kinds:
            return None
        tokens = self._tokens(text, canonical=False)
        for at, word in enumerate(tokens[:-1]):
            if word not in kinds or tokens[at + 1] not in LINKS:
                continue
            kind = self._kind_after(tokens, at)
            if kind and kind not in kinds[word]:
                said = " ".join(tokens[at + 1 : tokens.index(kind, at + 1) + 1])
                if not self._explains(procedure_id, kind, said):
                    return kind
        return None

    def other_purpose(self, procedure_id: str, text: str) -> str | None:
        """The activity a paper is asked for, when the procedure's entry never speaks of it:
        "quemar" in "ocupo permiso pa quemar cuetes" matched to a civil wedding, "cazar" in
        "permiso pa portar pistola" matched to a building licence. Only a paper (the first
        word of some title of the catalogue) that the procedure's own titles do not use,
        followed by "para" and a verb, counts: "la constancia pa la beca" says what the paper
        is for, not which paper it is, and "permiso pa tirar un cuartito" asks a demolition
        permit for its own business in everyday words. None when the entry explains the verb
        or a word after it."""
        tokens = self._tokens(text, canonical=False)
        for at, word in enumerate(tokens[:-2]):
            if word not in self._heads or tokens[at + 1] not in PURPOSE:
                continue
            if word in self._title_words[procedure_id]:
                continue  # "permiso pa tirar un cuartito" to a demolition permit: its own paper
            after = [w for w in tokens[at + 2 :] if w not in ARTICLES and w not in OWNERS]
            if not after or not infinitive(after[0]) or after[0] in self.ignore:
                continue
            activity = [w for w in after[:PURPOSE_WORDS] if self._content(w)]
            if not any(self._explains(procedure_id, w, w) for w in activity):
                return after[0]
        return None

    def _explains(self, procedure_id: str, word: str, said: str) -> bool:
        """Whether the entry uses `word`, a near spelling of it, or its canonical form in
        the words `said` around it ("de no deber" is "de no adeudo")."""
        vocabulary = self._vocabulary[procedure_id]
        forms = {word, *self.lexicon.canonical(word).split(), *self.lexicon.canonical(said).split()}
        forms -= LINKS | ARTICLES | {"no"}
        return bool(forms & vocabulary) or any(v in vocabulary for v, _ in self._expand(word))

    def named_in_title(self, procedure_id: str, phrase: str) -> bool:
        """Whether every word of `phrase` is in the procedure's official name."""
        words = set(self.words(phrase))
        return bool(words) and words <= self._name_words[procedure_id]

    def in_titles(self, procedure_id: str, phrase: str) -> bool:
        """Whether some word of `phrase` is in the procedure's name or synonyms."""
        return bool(set(self.words(phrase)) & self._title_words[procedure_id])

    def uses(self, procedure_id: str, words: Iterable[str], requirements: bool = True) -> bool:
        """Whether the procedure's entry (name, synonyms, description and, unless not
        `requirements`, requirements) uses every one of `words` (stemmed)."""
        vocabulary = (self._vocabulary if requirements else self._own_vocabulary)[procedure_id]
        return all(w in vocabulary for w in words)

    def names(self, procedure_id: str, text: str) -> bool:
        """Whether `text` says every word of one of the procedure's titles (its name or a
        synonym), near spellings included: "el bache de mi calle" names "bache", "arbotante
        apagado" is named only by both words, never by "apagado" alone."""
        said = {v for w in self.words(text) for v, _ in self._expand(w)}
        return any(
            titles and set(titles) <= said
            for titles, owner in zip(self._titles, self._title_owner, strict=True)
            if self.ids[owner] == procedure_id
        )

    def explained(self, procedure_id: str, text: str) -> tuple[float, list[str]]:
        """How much of what `text` says the procedure's entry explains, each word weighed by
        its salience (rare real words weigh most), and the rare real words it does not
        explain: (share, words). (1.0, []) when the message says nothing to weigh."""
        vocabulary = self._vocabulary[procedure_id]
        total = share = 0.0
        missing = []
        for word in dict.fromkeys(self.words(text)):
            options = self._expand(word)
            known = options[0][0] if options else word
            zipf = max(frequency.zipf(word), frequency.zipf(known))
            if options and zipf < REAL_WORD:
                zipf = 3.5  # a catalogue word the lists barely know ("tiliches")
            salience = NOISE if zipf < REAL_WORD else max(NOISE, min(3.0, SALIENCE_TOP - zipf))
            total += salience
            if word in vocabulary or any(v in vocabulary for v, _ in options):
                share += salience
            elif REAL_WORD <= zipf <= RARE:
                missing.append(word)
        return (share / total if total else 1.0), missing

    def distinctive(self, procedure_id: str, text: str) -> float:
        """How much of what sets the procedure apart `text` says: the largest share of one
        of its titles' weight (rare title words weigh most, near spellings count) said."""
        said = {v for w in self.words(text) for v, _ in self._expand(w)}
        return max(
            (
                sum(v for w, v in weights.items() if w in said) / total
                for weights, total in self._title_weights[procedure_id]
            ),
            default=0.0,
        )

    def focus_elsewhere(self, procedure_id: str, text: str) -> str | None:
        """The rarest real word of `text` (not a verb's infinitive), when neither the
        procedure's entry nor any other entry of the catalogue uses it (nor a near
        spelling): "kinder" in "inscripciones pa el kinder", "insurance" in "where do i pay
        my car insurance". What the message is most specifically about is then something
        the catalogue does not speak of. None otherwise, or when the message says nothing
        real enough to weigh."""
        rarest: tuple[float, str, bool] | None = None
        for word in dict.fromkeys(self.words(text)):
            options = self._expand(word)
            zipf = max([frequency.zipf(word), *(frequency.zipf(v) for v, _ in options[:1])])
            if options and zipf < REAL_WORD:
                zipf = 3.5  # a catalogue word the lists barely know, as in `explained`
            if zipf < REAL_WORD or infinitive(word):
                continue  # what to do ("derrumbar un cuarto") is no topic of its own
            if rarest is None or zipf < rarest[0]:
                rarest = (zipf, word, bool(options))
        return rarest[1] if rarest and not rarest[2] else None

    def words(self, text: str) -> list[str]:
        stemmed = " ".join(stem(w) for w in normalize(text).split())
        canonical = self.lexicon.canonical(stemmed)
        if self._cue_phrases is not None:
            canonical = self._cue_phrases.sub(" ", canonical)
        return [w for w in canonical.split() if w not in self.ignore and not w.isdigit()]

    @lru_cache(maxsize=4096)  # noqa: B019 - the index lives as long as its catalogue
    def _expand(self, word: str) -> tuple[tuple[str, float], ...]:
        """The catalogue words this word stands for: itself, or near spellings."""
        if word in self._body_postings:
            return ((word, 1.0),)
        if len(word) < 4:
            return ()
        grams = _trigrams(word)
        shared = Counter(v for g in grams for v in self._by_trigram.get(g, ()))
        scored = []
        for v, n in shared.items():
            if 2 * n < FUZZY_MIN * (len(grams) + len(v)):  # dice cannot reach the minimum
                continue
            other = _trigrams(v)
            dice = 2 * len(grams & other) / (len(grams) + len(other))
            if dice >= FUZZY_MIN:
                scored.append((v, round(dice, 3)))
        return tuple(sorted(scored, key=lambda x: -x[1])[:3])

    def search(self, text: str, limit: int = 5) -> list[Candidate]:
        query = self.words(text)
        if not query or self._chars is None or self._named_cues.issuperset(query):
            return []
        expansions = [self._expand(w) for w in dict.fromkeys(query)]
        title_hits = np.zeros(len(self._title_owner))
        title_explains = np.zeros(len(self._title_owner))
        body_hits = np.zeros(len(self.ids))
        body_total = 0.0
        for options in expansions:
            if not options:
                body_total += UNKNOWN_WORD_WEIGHT
                continue
            word_weight = max(self._body_idf[v] for v, _ in options)
            body_total += word_weight
            best_body: dict[int, float] = {}
            best_title: dict[int, float] = {}
            for v, sim in options:
                weight = self._body_idf[v] * sim
                for p in self._body_postings[v]:
                    best_body[p] = max(
                        best_body.get(p, 0.0), weight * self._body_weight.get((v, p), 1.0)
                    )
                title_weight = self._title_idf.get(v, 0.0) * sim
                for t in self._title_postings.get(v, ()):
                    best_title[t] = max(best_title.get(t, 0.0), title_weight)
            for p, w in best_body.items():
                body_hits[p] += w
            for t, w in best_title.items():
                title_hits[t] += w
                title_explains[t] += word_weight
        # Half how much of the title was said, half how much of what was said the title is.
        title_cover = TITLE_BALANCE * np.minimum(
            title_hits / np.maximum(self._title_total, 1e-9), 1.0
        ) + (1 - TITLE_BALANCE) * title_explains / max(body_total, 1e-9)
        title_score = np.zeros(len(self.ids))
        np.maximum.at(title_score, self._owners, np.minimum(title_cover, 1.0))
        char_score = np.zeros(len(self.ids))
        np.maximum.at(
            char_score,
            self._owners,
            _similarity(self._title_matrix, self._chars.vector(" ".join(query))),
        )
        body_score = body_hits / max(body_total, 1e-9)
        scores = (
            WEIGHTS["title"] * title_score
            + WEIGHTS["chars"] * char_score
            + WEIGHTS["body"] * body_score
        )
        if self.semantic is not None:
            scores = np.clip(scores + self.semantic(text), 0.0, 1.0)
        top = np.argsort(-scores)[:limit]
        return [Candidate(self.ids[i], round(float(scores[i]), 3)) for i in top if scores[i] > 0]


def _similarity(by_feature: csr_matrix, query: SparseVector) -> NDArray[np.float64]:
    """Cosine of the query with every document (documents are L2-normalised columns): the
    query's feature rows gathered from the CSR arrays directly, as scipy's row indexing
    costs most of a millisecond per call in checks and copies."""
    documents = by_feature.shape[1]
    if query.indices.size == 0:
        return np.zeros(documents)
    starts = by_feature.indptr[query.indices]
    lengths = by_feature.indptr[query.indices + 1] - starts
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(documents)
    # the position of every stored value of those rows, row after row
    first = np.cumsum(lengths) - lengths
    positions = np.repeat(starts - first, lengths) + np.arange(total)
    weights = by_feature.data[positions] * np.repeat(query.values, lengths)
    scores = np.bincount(by_feature.indices[positions], weights=weights, minlength=documents)
    return np.asarray(scores, dtype=np.float64)  # already float64 with weights: no copy
