"""Training data in Rasa's YAML format (version "3.1"): intents, synonyms, regexes, lookups.

Rasa itself does not run on Python 3.11, so the format is read here directly. Entity
annotations inside examples (`[text](entity)`) are reduced to their text.
"""

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

DATA = Path(__file__).resolve().parent / "data"
BUNDLED = (DATA / "nlu.yml", DATA / "aspects.yml", DATA / "english.yml")
RETRIEVAL = "/"  # Rasa retrieval intents: "ask_procedure/cost" is ask_procedure, about cost
_ANNOTATION = re.compile(r"\[([^\]]+)\](?:\([^)]*\)|\{[^}]*\})")


class TrainingDataError(ValueError):
    pass


@dataclass
class TrainingData:
    intents: dict[str, list[str]] = field(default_factory=dict)
    synonyms: dict[str, list[str]] = field(default_factory=dict)  # canonical -> variants
    regexes: dict[str, list[str]] = field(default_factory=dict)
    lookups: dict[str, list[str]] = field(default_factory=dict)

    def merge(self, other: "TrainingData") -> "TrainingData":
        merged = TrainingData()
        for name in ("intents", "synonyms", "regexes", "lookups"):
            target: dict[str, list[str]] = getattr(merged, name)
            for source in (getattr(self, name), getattr(other, name)):
                for key, values in source.items():
                    target.setdefault(key, []).extend(v for v in values if v not in target[key])
        return merged

    def examples_by_intent(self) -> list[tuple[str, str]]:
        """(text, intent) pairs, retrieval intents counted as their base intent."""
        return [
            (text, intent.split(RETRIEVAL, 1)[0])
            for intent, texts in self.intents.items()
            for text in texts
        ]

    def examples_by_response(self, intent: str) -> list[tuple[str, str]]:
        """(text, response key) pairs of `intent`'s retrieval intents ("cost" of
        "ask_procedure/cost")."""
        prefix = intent + RETRIEVAL
        return [
            (text, name[len(prefix) :])
            for name, texts in self.intents.items()
            if name.startswith(prefix)
            for text in texts
        ]

    def summary(self) -> str:
        examples = sum(len(v) for v in self.intents.values())
        intents = {name.split(RETRIEVAL, 1)[0] for name in self.intents}
        return (
            f"{len(intents)} intenciones con {examples} ejemplos, "
            f"{len(self.synonyms)} sinónimos, {len(self.regexes)} expresiones regulares, "
            f"{len(self.lookups)} listas de búsqueda"
        )


def _examples(block: object, where: str, annotated: bool) -> list[str]:
    if isinstance(block, list):
        lines = [str(x) for x in block]
    elif isinstance(block, str):
        lines = [line.strip() for line in block.splitlines() if line.strip()]
        if any(not line.startswith("- ") for line in lines):
            raise TrainingDataError(f"{where}: cada ejemplo debe empezar con '- '")
        lines = [line[2:].strip() for line in lines]
    else:
        raise TrainingDataError(f"{where}: 'examples' debe ser un bloque de texto")
    return [_ANNOTATION.sub(r"\1", line) if annotated else line for line in lines if line]


def parse(text: str, name: str = "nlu.yml") -> TrainingData:
    try:
        document = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise TrainingDataError(f"{name}: YAML inválido: {exc}") from exc
    if not isinstance(document, dict) or not isinstance(document.get("nlu", []), list):
        raise TrainingDataError(f"{name}: se esperaba 'nlu:' con una lista de bloques")
    data = TrainingData()
    for index, item in enumerate(document.get("nlu", [])):
        where = f"{name}: nlu[{index}]"
        if not isinstance(item, dict):
            raise TrainingDataError(f"{where}: se esperaba un bloque")
        kinds = {"intent": data.intents, "synonym": data.synonyms, "regex": data.regexes}
        kinds["lookup"] = data.lookups
        key = next((k for k in kinds if k in item), None)
        if key is None:
            raise TrainingDataError(f"{where}: falta intent, synonym, regex o lookup")
        target = kinds[key].setdefault(str(item[key]), [])
        target.extend(_examples(item.get("examples", ""), where, annotated=key == "intent"))
    for name_, patterns in data.regexes.items():
        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise TrainingDataError(f"{name}: regex {name_}: {exc}") from exc
    return data


def load(paths: list[Path] | None = None, include_bundled: bool = True) -> TrainingData:
    """The bundled training data plus any files given, merged."""
    files = (list(BUNDLED) if include_bundled else []) + list(paths or [])
    data = TrainingData()
    for path in files:
        data = data.merge(parse(Path(path).read_text(encoding="utf-8"), Path(path).name))
    return data
