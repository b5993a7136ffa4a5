"""The intent classifier: character and word n-grams with logistic regression.

Trained on the Rasa-format examples plus a few sentences made from the catalogue itself
(its names and synonyms in generic templates), so a new catalogue needs no examples.
"""

from collections.abc import Sequence

from nlu.classifier import TextClassifier
from nlu.lexicon import Lexicon
from nlu.normalize import normalize
from nlu.training import TrainingData
from nlu.understanding import ProcedureEntry

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
        pairs = data.examples_by_intent() + catalogue_examples(procedures)
        self.model = TextClassifier([(self.prepare(t), i) for t, i in pairs])
        self.labels = self.model.labels

    def prepare(self, text: str) -> str:
        return self.lexicon.canonical(normalize(text))

    def ranking(self, words: str) -> list[tuple[str, float]]:
        """Intents with probabilities, best first; `words` already prepared."""
        return self.model.ranking(words)
