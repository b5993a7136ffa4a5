"""Settings read from VENTANILLA_* environment variables and an optional .env file, grouped by
concern: each group is its own model reading the same variables as before (`settings.limits`
holds VENTANILLA_WEBHOOK_MAX_BYTES, `settings.nlu.backend` is VENTANILLA_NLU_BACKEND), and each
part is handed only where it is used."""

import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, IPvAnyNetwork, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

CANNED_ANSWERS = (
    Path(__file__).resolve().parent.parent / "casework" / "handoffs" / "canned.es-MX.yml"
)
SAMPLE_CATALOG = Path(__file__).resolve().parent.parent / "catalog" / "samples" / "acacias.yml"
# An origin a page may be framed by: https://host or https://host:port, nothing more (no path,
# no wildcard, nothing that could end the header's directive).
ORIGIN = re.compile(r"https?://[A-Za-z0-9.-]+(:\d{1,5})?")


class _Part(BaseSettings):
    """One group of settings, read from the environment and .env like the whole."""

    model_config = SettingsConfigDict(env_prefix="VENTANILLA_", env_file=".env", extra="ignore")


class WebSettings(_Part):
    """Serving the web app and the back office: address, sessions, proxies, framing, docs."""

    host: str = "127.0.0.1"
    port: int = 8000
    public_url: str = "http://127.0.0.1:8000"
    secret_key: str = Field(
        default="",
        description="Signs staff sessions. Generated and kept in the database when empty.",
    )
    staff_session_hours: float = Field(
        default=12, gt=0, description="How long a staff login lasts before logging in again"
    )
    trusted_proxies: Annotated[list[IPvAnyNetwork], NoDecode] = Field(
        default_factory=list,
        description="Addresses or networks of the reverse proxies whose X-Forwarded-For is "
        "believed (comma-separated, e.g. 10.0.0.5,172.18.0.0/16). Empty: none, the peer "
        "address is the client's",
    )
    frame_ancestors: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Origins allowed to embed the citizens' pages in a frame (comma-separated, "
        "e.g. https://www.municipio.gob.mx). Empty: no site may frame any page. Staff pages "
        "are never framed",
    )
    api_docs: bool = Field(
        default=True,
        description="Serve /openapi.json and /api/docs (to logged-in administrators only)",
    )
    inbox_stream_seconds: float = Field(
        default=300, ge=0, description="How long one live-inbox event stream lasts"
    )

    @field_validator("trusted_proxies", "frame_ancestors", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        """A list setting given as text: comma- or space-separated, or a JSON list."""
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return json.loads(text)
            return [item for item in re.split(r"[,\s]+", text) if item]
        return value

    @field_validator("frame_ancestors")
    @classmethod
    def _origins(cls, origins: list[str]) -> list[str]:
        for origin in origins:
            if not ORIGIN.fullmatch(origin):
                raise ValueError(f"not an origin (scheme://host[:port]): {origin!r}")
        return origins


class LimitSettings(_Part):
    """Input at the door and flooding: door.py, the web chat's rate limits, link codes."""

    max_message_chars: int = 1000
    webhook_max_bytes: int = Field(
        default=1_048_576, ge=1024, description="Largest Telegram or WhatsApp webhook body (413)"
    )
    chat_max_bytes: int = Field(
        default=16_384, ge=1024, description="Largest web chat request body (413)"
    )
    max_body_bytes: int = Field(
        default=5_242_880,
        ge=1024,
        description="Largest body of any other route, e.g. a catalogue upload (413)",
    )
    json_max_depth: int = Field(
        default=32, ge=4, le=200, description="Deepest nesting of arrays and objects in JSON (400)"
    )
    chat_messages_per_session: int = Field(
        default=20, ge=1, description="Web chat messages one chat session may send per minute"
    )
    chat_messages_per_address: int = Field(
        default=60,
        ge=1,
        description="Web chat messages and new sessions from one client address per minute",
    )
    chat_polls_per_address: int = Field(
        default=300,
        ge=1,
        description="Web chat polls for new messages from one client address per minute (the "
        "page polls every 3 s)",
    )
    link_codes_per_hour: int = Field(
        default=3,
        ge=1,
        description="Link codes sent to one citizen's chat per hour, whichever chats typed the "
        "CURP (one live code per asking chat)",
    )


class EvaluationSettings(_Part):
    """The evaluation: surveys, «¿Te sirvió?», visits, pseudonyms and small cells."""

    survey_days: int = Field(
        default=7, ge=1, description="Days a survey can be answered; later answers are declined"
    )
    survey_reminder_hours: float = Field(
        default=24, ge=0, description="Hours before the one reminder of an unanswered survey"
    )
    usefulness_rate: float = Field(
        default=0.2,
        ge=0,
        le=1,
        description="Share of informational answers followed by «¿Te sirvió esta respuesta?»",
    )
    session_gap_minutes: float = Field(
        default=30, gt=0, description="A pause longer than this starts a new visit (bot session)"
    )
    pseudonym_secret: str = Field(
        default="",
        description="HMAC key of the citizen pseudonym in exports. Generated and kept in the "
        "database when empty",
    )
    min_reliable_count: int = Field(
        default=30, ge=1, description="Below this many answers the dashboard warns: too few"
    )
    public_min_count: int = Field(
        default=5, ge=1, description="Public results page: cells with fewer ratings are hidden"
    )


class RetentionSettings(_Part):
    """How long what citizens send is kept (casework/privacy/retention.py)."""

    inbox_retention_days: int = Field(
        default=30,
        ge=1,
        description="Days an update from a messaging app is kept, as it arrived, after it was "
        "handled; then it is deleted",
    )
    transcript_retention_months: int = Field(
        default=24,
        ge=1,
        description="Months the transcript of conversations (messages and replies) is kept",
    )


class NluSettings(_Part):
    """Understanding Spanish: which backend, extra training data, thresholds."""

    model_config = SettingsConfigDict(env_prefix="VENTANILLA_NLU_", env_file=".env", extra="ignore")

    backend: Literal["default", "baseline", "rasa"] = "default"
    data: list[Path] = Field(
        default_factory=list, description="Extra Rasa-format nlu.yml files to train with"
    )
    procedure_threshold: float = Field(default=0.45, ge=0, le=1)
    candidate_threshold: float = Field(default=0.25, ge=0, le=1)
    ambiguity_margin: float = Field(default=0.05, ge=0, le=1)
    embeddings: bool = Field(
        default=False,
        description="Add multilingual-e5-small sentence embeddings to procedure matching "
        "(needs the 'embeddings' extra; tens of ms per message)",
    )


class RasaSettings(_Part):
    """A Rasa server, when the understanding backend is rasa."""

    model_config = SettingsConfigDict(
        env_prefix="VENTANILLA_RASA_", env_file=".env", extra="ignore"
    )

    url: str = "http://127.0.0.1:5005"
    timeout: float = 3.0


class TelegramSettings(_Part):
    """The Telegram bot (bot/channels/telegram/)."""

    model_config = SettingsConfigDict(
        env_prefix="VENTANILLA_TELEGRAM_", env_file=".env", extra="ignore"
    )

    token: str = ""
    api_base: str = "https://api.telegram.org"
    webhook_secret: str = Field(
        default="", description="Generated once and kept in the database when empty"
    )


class WhatsAppSettings(_Part):
    """The WhatsApp Cloud API number (bot/channels/whatsapp/)."""

    model_config = SettingsConfigDict(
        env_prefix="VENTANILLA_WHATSAPP_", env_file=".env", extra="ignore"
    )

    token: str = ""
    phone_number_id: str = ""
    app_secret: str = ""
    verify_token: str = ""
    api_base: str = "https://graph.facebook.com"
    api_version: str = "v21.0"
    template_language: str = "es_MX"
    template_status: str = Field(
        default="aviso_solicitud", description="Approved template for status updates: {{1}}"
    )
    template_survey: str = Field(
        default="encuesta_servicio", description="Approved template for the survey: {{1}}"
    )


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="VENTANILLA_", env_file=".env", extra="ignore")

    def __init__(self, **values: Any) -> None:
        """`Settings(_env_file=None)` (or another file) holds for the groups too."""
        if "_env_file" in values:
            source: dict[str, Any] = {"_env_file": values["_env_file"]}  # not a field: no kwarg
            for name, field in type(self).model_fields.items():
                part = field.annotation
                if name not in values and isinstance(part, type) and issubclass(part, _Part):
                    values[name] = part(**source)
        super().__init__(**values)

    database_url: str = Field(
        default="sqlite+aiosqlite:///ventanilla.db",
        description="SQLAlchemy async URL: sqlite+aiosqlite:///FILE or postgresql+asyncpg://...",
    )
    folio_prefix: str = Field(default="SMA", pattern=r"^[A-Z0-9]{2,8}$")
    timezone: str = "America/Mexico_City"
    sample_catalog: Path = SAMPLE_CATALOG
    catalog_refresh_seconds: float = Field(
        default=2.0,
        ge=0,
        description="How often the bot checks for catalogue changes made by another process",
    )
    desk_hours: str = Field(
        default="Lunes a viernes de 8:00 a 15:00 h",
        description="When staff answer chats not tied to a department, as catalogue hours text",
    )
    canned_answers: Path = Field(
        default=CANNED_ANSWERS, description="YAML file of agents' canned answers (code: text)"
    )
    outbox_in_flight: int = Field(
        default=8,
        ge=1,
        le=64,
        description="Replies being sent at once to Telegram and WhatsApp: the most a crash "
        "can send twice",
    )
    web: WebSettings = Field(default_factory=WebSettings)
    limits: LimitSettings = Field(default_factory=LimitSettings)
    evaluation: EvaluationSettings = Field(default_factory=EvaluationSettings)
    retention: RetentionSettings = Field(default_factory=RetentionSettings)
    nlu: NluSettings = Field(default_factory=NluSettings)
    rasa: RasaSettings = Field(default_factory=RasaSettings)
    telegram: TelegramSettings = Field(default_factory=TelegramSettings)
    whatsapp: WhatsAppSettings = Field(default_factory=WhatsAppSettings)


def amended(settings: Settings, **changes: Any) -> Settings:
    """A copy with some values changed, by group: ``amended(s, nlu={"backend": "rasa"},
    database_url=url)``. Unlike ``model_copy``, a name that is not a setting is refused."""
    update: dict[str, Any] = {}
    for name, value in changes.items():
        if name not in Settings.model_fields:
            raise ValueError(f"not a setting: {name}")
        current = getattr(settings, name)
        if isinstance(current, BaseModel):
            unknown = set(value) - set(type(current).model_fields)
            if unknown:
                raise ValueError(f"not settings of {name}: {sorted(unknown)}")
            value = current.model_copy(update=value)
        update[name] = value
    return settings.model_copy(update=update)


@lru_cache
def get_settings() -> Settings:
    return Settings()
