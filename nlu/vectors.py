"""Fast single-message TF-IDF vectors from a fitted scikit-learn vectorizer.

scikit-learn's transform() validates and builds a sparse matrix for every call, which costs
milliseconds per message. Here one message becomes (feature indices, weights) directly, with
the same analyzer, idf and normalisation, so `understand()` stays well under a millisecond.
"""

from collections import Counter

import numpy as np
from numpy.typing import NDArray
from sklearn.feature_extraction.text import TfidfVectorizer


class SparseVector:
    __slots__ = ("indices", "values")

    def __init__(self, indices: NDArray[np.int64], values: NDArray[np.float64]) -> None:
        self.indices = indices
        self.values = values


class FastTfidf:
    def __init__(self, fitted: TfidfVectorizer) -> None:
        if not fitted.sublinear_tf or fitted.norm != "l2":
            raise ValueError("FastTfidf expects sublinear_tf=True and norm='l2'")
        self.analyze = fitted.build_analyzer()
        self.vocabulary: dict[str, int] = fitted.vocabulary_
        self.idf = fitted.idf_
        self.size = len(self.vocabulary)

    def vector(self, text: str) -> SparseVector:
        counts = Counter(self.analyze(text))
        known = counts.keys() & self.vocabulary.keys()  # a set operation, in C
        if not known:
            return SparseVector(np.zeros(0, dtype=np.int64), np.zeros(0))
        indices = np.fromiter((self.vocabulary[t] for t in known), dtype=np.int64, count=len(known))
        tf = 1.0 + np.log(
            np.fromiter((counts[t] for t in known), dtype=np.float64, count=len(known))
        )
        values = tf * self.idf[indices]
        return SparseVector(indices, values / np.linalg.norm(values))
