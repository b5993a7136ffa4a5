"""Settings grouped by concern still read the VENTANILLA_* names the README documents."""

from pathlib import Path

import pytest
from pydantic import ValidationError

from foundation.settings import Settings, amended


def test_each_group_reads_the_documented_variable_names(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in {
        "VENTANILLA_DATABASE_URL": "sqlite+aiosqlite:///otra.db",
        "VENTANILLA_PORT": "8123",
        "VENTANILLA_FRAME_ANCESTORS": "https://www.municipio.gob.mx, https://a.mx",
        "VENTANILLA_WEBHOOK_MAX_BYTES": "4096",
        "VENTANILLA_SURVEY_DAYS": "3",
        "VENTANILLA_TRANSCRIPT_RETENTION_MONTHS": "6",
        "VENTANILLA_NLU_BACKEND": "baseline",
        "VENTANILLA_NLU_PROCEDURE_THRESHOLD": "0.6",
        "VENTANILLA_RASA_URL": "http://rasa:5005",
        "VENTANILLA_TELEGRAM_API_BASE": "http://127.0.0.1:9",
        "VENTANILLA_WHATSAPP_PHONE_NUMBER_ID": "5215550001",
    }.items():
        monkeypatch.setenv(name, value)
    settings = Settings(_env_file=None)
    assert settings.database_url == "sqlite+aiosqlite:///otra.db"
    assert settings.web.port == 8123
    assert settings.web.frame_ancestors == ["https://www.municipio.gob.mx", "https://a.mx"]
    assert settings.limits.webhook_max_bytes == 4096
    assert settings.evaluation.survey_days == 3
    assert settings.retention.transcript_retention_months == 6
    assert settings.nlu.backend == "baseline"
    assert settings.nlu.procedure_threshold == 0.6
    assert settings.rasa.url == "http://rasa:5005"
    assert settings.telegram.api_base == "http://127.0.0.1:9"
    assert settings.whatsapp.phone_number_id == "5215550001"


def test_a_group_reads_the_env_file_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("VENTANILLA_SURVEY_DAYS", raising=False)
    (tmp_path / ".env").write_text("VENTANILLA_SURVEY_DAYS=9\n", encoding="utf-8")
    assert Settings().evaluation.survey_days == 9
    assert Settings(_env_file=None).evaluation.survey_days == 7  # no file: not the groups either


def test_a_bad_value_in_a_group_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VENTANILLA_SURVEY_DAYS", "0")
    with pytest.raises(ValidationError):
        Settings(_env_file=None)


def test_amended_changes_a_copy_and_refuses_names_that_are_not_settings() -> None:
    settings = Settings(_env_file=None)
    changed = amended(settings, nlu={"backend": "rasa"}, database_url="sqlite+aiosqlite:///x.db")
    assert (changed.nlu.backend, changed.database_url) == ("rasa", "sqlite+aiosqlite:///x.db")
    assert settings.nlu.backend == "default"  # the original is untouched
    assert changed.limits == settings.limits
    with pytest.raises(ValueError, match="survey_days"):
        amended(settings, survey_days=3)  # belongs to a group: evaluation={"survey_days": 3}
    with pytest.raises(ValueError, match="backend_name"):
        amended(settings, nlu={"backend_name": "rasa"})
