"""A fake Rasa server on 127.0.0.1 answering POST /model/parse in Rasa's documented format."""

import json
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.fakes.local_server import LocalServer, read_body


class FakeRasa(LocalServer):
    """Answers with the parse result registered for a text; records every request body."""

    def __init__(self) -> None:
        self.answers: dict[str, dict[str, Any]] = {}
        self.calls: list[dict[str, Any]] = []
        super().__init__()
        self.url = self.base_url

    @staticmethod
    def parse(
        text: str,
        intent: str,
        confidence: float = 0.9,
        entities: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """A body shaped like Rasa 3's /model/parse answer."""
        return {
            "text": text,
            "intent": {"name": intent, "confidence": confidence},
            "intent_ranking": [
                {"name": intent, "confidence": confidence},
                {"name": "greet", "confidence": round(1 - confidence, 3)},
            ],
            "entities": [
                {
                    "entity": e["entity"],
                    "value": e["value"],
                    "start": 0,
                    "end": len(str(e["value"])),
                    "confidence_entity": 0.97,
                    "extractor": "DIETClassifier",
                }
                for e in entities or []
            ],
        }

    def _serve(self, request: BaseHTTPRequestHandler, http_method: str) -> None:
        body = json.loads(read_body(request) or b"null")
        self.calls.append({"path": request.path, "body": body})
        if http_method != "POST" or request.path != "/model/parse":
            request.send_error(404)
            return
        answer = self.answers.get(body["text"], self.parse(body["text"], "nlu_fallback"))
        data = json.dumps(answer).encode()
        request.send_response(200)
        request.send_header("Content-Type", "application/json")
        request.send_header("Content-Length", str(len(data)))
        request.end_headers()
        request.wfile.write(data)

    def answer(self, text: str, intent: str, **entities: str) -> None:
        found = [{"entity": k, "value": v} for k, v in entities.items()]
        self.answers[text] = self.parse(text, intent, entities=found)
