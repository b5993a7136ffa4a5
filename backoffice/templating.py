"""Jinja2 templates with the filters the pages share."""

from pathlib import Path

from fastapi.templating import Jinja2Templates

from backoffice.csrf import csrf_input, csrf_token
from casework import texts
from casework.calendar import format_local

templates = Jinja2Templates(directory=Path(__file__).resolve().parent / "templates")
templates.env.filters["local"] = format_local
templates.env.globals["status_label"] = lambda code: texts.label("status", code)
templates.env.globals["status_labels"] = texts.labels("status")
templates.env.globals["csrf_input"] = csrf_input
templates.env.globals["csrf_token"] = csrf_token
templates.env.globals["label"] = texts.label
