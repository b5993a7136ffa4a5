"""Finding the catalogue procedure a message is about, for any catalogue, without training.

Each procedure is indexed by its name and synonyms (character n-grams, so typos and missing
accents still match) and by all its words (name, synonyms, description, requirements). The
score mixes the best title match with the whole-text match.
"""

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import csr_matrix
from sklearn.feature_extraction.text import TfidfVectorizer

from nlu.lexicon import Lexicon
from nlu.normalize import normalize
from nlu.understanding import Candidate, ProcedureEntry
from nlu.vectors import FastTfidf, SparseVector

STOPWORDS = frozenset(
    """a al ante con de del el en la las lo los mi mis para por que se un una unos unas y o me
    es su sus le les como cual cuales hay quiero necesito ocupo hacer sacar tramitar tramite
    tramites informacion info sobre favor porfa pa q k d xq tmb buenas buenos dias tardes noches
    hola disculpe oiga pregunta saber quisiera puedo puede mas este esta ese esa eso ya
    solicitar solicitud pedir tengo tiene""".split()
)
TITLE_WEIGHT = 0.65


class ProcedureIndex:
    def __init__(self, procedures: Sequence[ProcedureEntry], lexicon: Lexicon, ignore: set[str]):
        self.lexicon = lexicon
        self.ignore = STOPWORDS | ignore
        self.ids = [p.id for p in procedures]
        titles: list[str] = []
        owners: list[int] = []
        bodies: list[str] = []
        for index, p in enumerate(procedures):
            for title in (p.name, *p.synonyms):
                titles.append(self.clean(title))
                owners.append(index)
            body = " ".join((p.name, *p.synonyms, p.description, *p.requirements))
            bodies.append(self.clean(body))
        self._owners = np.array(owners)
        self._titles = self._bodies = None
        if titles:
            chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True)
            words = TfidfVectorizer(analyzer="word", sublinear_tf=True)
            # Rows are features: one message's few features pick a few rows.
            self._titles = chars.fit_transform(titles).T.tocsr()
            self._bodies = words.fit_transform(bodies).T.tocsr()
            self._chars, self._words = FastTfidf(chars), FastTfidf(words)

    def clean(self, text: str) -> str:
        words = self.lexicon.canonical(normalize(text)).split()
        return " ".join(w for w in words if w not in self.ignore)

    def search(self, text: str, limit: int = 5) -> list[Candidate]:
        query = self.clean(text)
        if not query or self._titles is None or self._bodies is None:
            return []
        title_sim = _similarity(self._titles, self._chars.vector(query))
        best_title = np.zeros(len(self.ids))
        np.maximum.at(best_title, self._owners, title_sim)
        body_sim = _similarity(self._bodies, self._words.vector(query))
        scores = TITLE_WEIGHT * best_title + (1 - TITLE_WEIGHT) * body_sim
        top = np.argsort(-scores)[:limit]
        return [Candidate(self.ids[i], round(float(scores[i]), 3)) for i in top if scores[i] > 0]


def _similarity(by_feature: csr_matrix, query: SparseVector) -> NDArray[np.float64]:
    """Cosine of the query with every document (documents are L2-normalised columns)."""
    if query.indices.size == 0:
        return np.zeros(by_feature.shape[1])
    return np.asarray(by_feature[query.indices].T @ query.values).ravel()
