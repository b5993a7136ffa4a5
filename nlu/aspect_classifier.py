"""The aspect classifier: what a question about a procedure asks (cost, requirements...).

Trained on the `ask_procedure/<aspect>` retrieval intents of the Rasa data (nlu/data/aspects.yml),
with the cue phrases of nlu.aspects as extra features, so it learns the asking ("q le piden a
uno", "hasta cuando sirve") rather than the procedure asked about. Reports (`open_request`
examples) count as asking nothing in particular.
"""

from collections.abc import Callable

from nlu.aspects import cue_features, find_aspect
from nlu.classifier import TextClassifier
from nlu.training import TrainingData
from nlu.understanding import ASPECTS

GENERAL = "general"  # a question with no particular aspect


class AspectClassifier:
    def __init__(self, data: TrainingData, prepare: Callable[[str], str]) -> None:
        examples = [
            (text, aspect)
            for text, aspect in data.examples_by_response("ask_procedure")
            if aspect in ASPECTS or aspect == GENERAL
        ]
        if examples:  # a report asks nothing in particular ("no hay agua desde el domingo")
            examples += [(text, GENERAL) for text in data.intents.get("open_request", [])]
        pairs = [(self._features(prepare(text)), aspect) for text, aspect in examples]
        self.model = TextClassifier(pairs, chars=(3, 4)) if len({a for _, a in pairs}) > 1 else None

    @staticmethod
    def _features(words: str) -> str:
        return " ".join((words, *cue_features(words)))

    def ranking(self, words: str) -> list[tuple[str | None, float]]:
        """Aspects with probabilities, best first (None for a general question); `words`
        prepared like the intent classifier's."""
        if self.model is None:
            return []
        return [
            (None if a == GENERAL else a, p) for a, p in self.model.ranking(self._features(words))
        ]

    def find(self, words: str) -> str | None:
        """The likeliest aspect, or None for a general question; the cue rules alone when the
        training data has no aspect examples."""
        ranking = self.ranking(words)
        return ranking[0][0] if ranking else find_aspect(words)
