"""Jinja2 templates with the filters the pages share."""

from pathlib import Path
from typing import Any

from fastapi.templating import Jinja2Templates

from backoffice.csrf import csrf_input, csrf_token
from backoffice.permissions import sections_for
from foundation import texts
from foundation.calendar import format_local


def label(group: str, code: str) -> str:
    """A Spanish label from the texts file, or the code itself if it has none."""
    try:
        return str(texts.labels(group).get(code, code))  # codes may hold dots: no dotted lookup
    except KeyError:
        return code


def shown(value: Any) -> str:
    """An audit-log value in words: lists joined, booleans as sí/no, nothing as a dash."""
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return "sí" if value else "no"
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    return str(value)


templates = Jinja2Templates(directory=Path(__file__).resolve().parent / "templates")
templates.env.filters["local"] = format_local
templates.env.filters["shown"] = shown
templates.env.globals["status_label"] = lambda code: texts.label("status", code)
templates.env.globals["status_labels"] = texts.labels("status")
templates.env.globals["label"] = label
templates.env.globals["sections_for"] = sections_for
templates.env.globals["csrf_input"] = csrf_input
templates.env.globals["csrf_token"] = csrf_token
