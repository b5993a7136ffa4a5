"""The intent classifier: character and word n-grams with logistic regression.

Trained on the Rasa-format examples plus a few sentences made from the catalogue itself
(its names and synonyms in generic templates), so a new catalogue needs no examples.
"""

from collections.abc import Sequence

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, make_pipeline

from nlu.lexicon import Lexicon
from nlu.normalize import normalize
from nlu.training import TrainingData
from nlu.understanding import ProcedureEntry
from nlu.vectors import FastTfidf

ASK_TEMPLATES = (
    "cuanto cuesta {x}",
    "requisitos para {x}",
    "como saco {x}",
    "donde se tramita {x}",
    "informacion de {x}",
    "{x}",
)
REPORT_TEMPLATES = ("hay {x}", "quiero reportar {x}", "tenemos {x} en la calle")


def catalogue_examples(procedures: Sequence[ProcedureEntry]) -> list[tuple[str, str]]:
    """Deterministic sentences about this catalogue's procedures, a few per procedure."""
    examples = []
    for n, p in enumerate(procedures):
        phrases = [p.name.lower(), *(s.lower() for s in p.synonyms)]
        for k, phrase in enumerate(phrases[:3]):
            examples.append(
                (ASK_TEMPLATES[(n + k) % len(ASK_TEMPLATES)].format(x=phrase), "ask_procedure")
            )
        if p.takes_requests:
            for k, phrase in enumerate(phrases[1:4] or phrases[:1]):
                template = REPORT_TEMPLATES[(n + k) % len(REPORT_TEMPLATES)]
                examples.append((template.format(x=phrase), "open_request"))
    return examples


class IntentClassifier:
    def __init__(
        self, data: TrainingData, procedures: Sequence[ProcedureEntry], lexicon: Lexicon
    ) -> None:
        self.lexicon = lexicon
        pairs = [(text, intent) for intent, texts in data.intents.items() for text in texts]
        pairs += catalogue_examples(procedures)
        features = FeatureUnion(
            [
                (
                    "chars",
                    TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True),
                ),
                ("words", TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True)),
            ]
        )
        self.model = make_pipeline(
            features, LogisticRegression(C=20, max_iter=2000, class_weight="balanced")
        )
        self.model.fit([self.prepare(t) for t, _ in pairs], [i for _, i in pairs])
        self.labels: list[str] = [str(c) for c in self.model.classes_]
        chars, words = (FastTfidf(v) for _, v in features.transformer_list)
        self._blocks = ((chars, 0), (words, chars.size))
        classifier: LogisticRegression = self.model[-1]
        self._weights = np.ascontiguousarray(classifier.coef_.T)  # features x classes
        self._bias = classifier.intercept_

    def prepare(self, text: str) -> str:
        return self.lexicon.canonical(normalize(text))

    def ranking(self, words: str) -> list[tuple[str, float]]:
        """Intents with probabilities, best first; `words` already prepared."""
        scores = self._bias.copy()
        for vectorizer, offset in self._blocks:
            v = vectorizer.vector(words)
            scores += v.values @ self._weights[v.indices + offset]
        exp = np.exp(scores - scores.max())
        probabilities = exp / exp.sum()
        order = np.argsort(-probabilities)
        return [(self.labels[i], float(probabilities[i])) for i in order]
