"""The report of a run: lines for staff (Spanish), or one JSON object for CI and tools."""

import json
from dataclasses import asdict
from typing import Any

from bot.rehearsal.runner import CaseResult
from foundation import texts


def text(results: list[CaseResult]) -> str:
    """One line per case; under a failure, the turn, the failed assertions and what the chat
    looked like then. A summary line last."""
    lines = []
    for result in results:
        verdict = texts.t("rehearsal.passed" if result.passed else "rehearsal.failed")
        shown = texts.t(
            "rehearsal.case_line", verdict=f"{verdict:<5}", file=result.file, case=result.case
        )
        lines.append(shown)
        if not result.passed:
            lines += _details(result)
    lines.append(_summary(results))
    return "\n".join(lines)


def _details(result: CaseResult) -> list[str]:
    lines = [_indent(1, texts.t("rehearsal.turn", turn=result.turn, text=result.text))]
    lines += [
        _indent(2, texts.t("rehearsal.failure", assertion=f.assertion, problem=f.problem))
        for f in result.failures
    ]
    if result.error is not None:
        lines.append(_indent(2, texts.t("rehearsal.error", error=result.error)))
    if result.state is None:
        return lines  # nothing was sent in the failing turn
    slots = {k: v for k, v in (result.slots or {}).items() if k != "choices"}
    lines.append(_indent(2, texts.t("rehearsal.found_state", state=result.state)))
    shown = json.dumps(slots, ensure_ascii=False)
    lines.append(_indent(2, texts.t("rehearsal.found_slots", slots=shown)))
    lines.append(_indent(2, texts.t("rehearsal.found_replies")))
    for reply in result.replies:
        lines.append(_indent(3, texts.t("rehearsal.found_reply", text=reply.text)))
        if reply.choices:
            labels = ", ".join(c["label"] for c in reply.choices)
            lines.append(_indent(4, texts.t("rehearsal.found_choices", labels=labels)))
    if not result.replies:
        lines.append(_indent(3, texts.t("rehearsal.no_replies")))
    return lines


def _indent(level: int, text: str) -> str:
    pad = "  " * level
    return pad + text.replace("\n", "\n" + pad + "  ")


def _summary(results: list[CaseResult]) -> str:
    passed = sum(r.passed for r in results)
    return texts.t(
        "rehearsal.summary", cases=len(results), passed=passed, failed=len(results) - passed
    )


def as_json(results: list[CaseResult]) -> str:
    passed = sum(r.passed for r in results)
    report: dict[str, Any] = {
        "cases": len(results),
        "passed": passed,
        "failed": len(results) - passed,
        "results": [{**asdict(r), "passed": r.passed} for r in results],
    }
    return json.dumps(report, ensure_ascii=False, indent=2)
