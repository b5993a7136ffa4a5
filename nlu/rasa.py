"""A Rasa server as the understanding backend: POST /model/parse, mapped to Understanding.

Rasa's answer (https://rasa.com/docs/rasa/pages/http-api#operation/parseModelMessage):
{"text": ..., "intent": {"name", "confidence"}, "intent_ranking": [...],
 "entities": [{"entity", "value", "start", "end", "confidence_entity", "extractor"}]}
Entities named `procedure` and `aspect` fill those fields; the rest go to `entities`.
Intents outside Ventanilla's list become out_of_scope.
"""

import logging
from typing import Any

import httpx

from nlu import entities as entity_patterns
from nlu.understanding import ASPECTS, INTENTS, Candidate, Context, Understanding

log = logging.getLogger(__name__)


class RasaUnderstander:
    blocking = True  # calls the network: the engine runs it off the event loop

    def __init__(self, url: str, timeout: float = 3.0, known_procedures: set[str] | None = None):
        self.url = url.rstrip("/") + "/model/parse"
        self.known = known_procedures
        self.client = httpx.Client(timeout=timeout)

    def understand(self, text: str, context: Context) -> Understanding:
        try:
            response = self.client.post(self.url, json={"text": text})
            response.raise_for_status()
            return self.from_rasa(response.json(), text)
        except (httpx.HTTPError, ValueError) as exc:
            log.warning("Rasa server unavailable or answered badly: %s", exc)
            return Understanding("out_of_scope", entities=entity_patterns.extract(text))

    def from_rasa(self, body: dict[str, Any], text: str) -> Understanding:
        intent = body.get("intent") or {}
        said = intent.get("name")
        name: str = said if isinstance(said, str) and said in INTENTS else "out_of_scope"
        found = entity_patterns.extract(text)
        procedure = aspect = None
        candidates = []
        for entity in body.get("entities") or []:
            kind, value = entity.get("entity"), str(entity.get("value", ""))
            if kind == "procedure" and (self.known is None or value in self.known):
                procedure = procedure or value
                candidates.append(Candidate(value, float(entity.get("confidence_entity") or 1.0)))
            elif kind == "aspect" and value in ASPECTS:
                aspect = aspect or value
            elif kind:
                found.setdefault(str(kind), value)
        if name == "ask_procedure" and procedure is None and not aspect:
            name = "out_of_scope"
        return Understanding(
            name,
            procedure if name in ("ask_procedure", "open_request") else None,
            aspect if name == "ask_procedure" else None,
            float(intent.get("confidence") or 0.0),
            found,
            tuple(candidates),
        )
