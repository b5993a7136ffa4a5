"""A small text classifier: character and word n-grams with logistic regression.

Fitted with scikit-learn, applied to one message at a time with FastTfidf and a dot product,
so a prediction costs well under a millisecond.
"""

from collections.abc import Sequence

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, make_pipeline

from nlu.vectors import FastTfidf


class TextClassifier:
    def __init__(
        self, pairs: Sequence[tuple[str, str]], c: float = 20.0, chars: tuple[int, int] = (2, 5)
    ) -> None:
        """`pairs` are (prepared text, label); `chars` the character n-gram lengths."""
        features = FeatureUnion(
            [
                (
                    "chars",
                    TfidfVectorizer(analyzer="char_wb", ngram_range=chars, sublinear_tf=True),
                ),
                ("words", TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True)),
            ]
        )
        model = make_pipeline(
            features, LogisticRegression(C=c, max_iter=2000, class_weight="balanced")
        )
        model.fit([t for t, _ in pairs], [label for _, label in pairs])
        self.labels: list[str] = [str(label) for label in model.classes_]
        by_chars, by_words = (FastTfidf(v) for _, v in features.transformer_list)
        self._blocks = ((by_chars, 0), (by_words, by_chars.size))
        classifier: LogisticRegression = model[-1]
        self._weights = np.ascontiguousarray(classifier.coef_.T)  # features x classes
        self._bias = classifier.intercept_

    def ranking(self, words: str) -> list[tuple[str, float]]:
        """Labels with probabilities, best first; `words` prepared like the training texts."""
        scores = self._bias.copy()
        for vectorizer, offset in self._blocks:
            v = vectorizer.vector(words)
            scores += v.values @ self._weights[v.indices + offset]
        if len(self.labels) == 2:  # binary logistic regression keeps one column
            scores = np.array([-scores[0], scores[0]]) / 2
        exp = np.exp(scores - scores.max())
        probabilities = exp / exp.sum()
        order = np.argsort(-probabilities)
        return [(self.labels[i], float(probabilities[i])) for i in order]
