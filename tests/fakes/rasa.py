"""A fake Rasa server on 127.0.0.1 answering POST /model/parse in Rasa's documented format."""

import json
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.fakes.local_server import LocalServer


class FakeRasa(LocalServer):
    """Answers with the parse result registered for a text; records every request body."""

    def __init__(self) -> None:
        self.answers: dict[str, dict[str, Any]] = {}
        self.calls: list[dict[str, Any]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                fake.calls.append({"path": self.path, "body": body})
                if self.path != "/model/parse":
                    self.send_error(404)
                    return
                answer = fake.answers.get(body["text"], fake.parse(body["text"], "nlu_fallback"))
                data = json.dumps(answer).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        super().__init__(Handler)
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

    def answer(self, text: str, intent: str, **entities: str) -> None:
        found = [{"entity": k, "value": v} for k, v in entities.items()]
        self.answers[text] = self.parse(text, intent, entities=found)
