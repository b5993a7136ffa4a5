"""Which staff roles may use each back office section, and the navigation built from it.

Every back office route declares its permission with `RoleRequired(*roles)` (see `deps.py`)
using one of the tuples below; `tests/test_permissions.py` walks every route of the app and
fails if one under /backoffice has none. A new section adds its tuple and its `Section` here.
"""

from dataclasses import dataclass

from casework.staff.models import ROLES

ANY_STAFF: tuple[str, ...] = ROLES
REQUESTS = ("admin", "agent")
HANDOFFS = ("admin", "agent")
DELIVERIES = ("admin", "agent")
RATINGS = ("admin", "evaluator")
CATALOG = ("admin", "editor")
AUDIT = ("admin",)
USERS = ("admin",)
API_DOCS = ("admin",)  # /openapi.json and /api/docs: the shape of every route


@dataclass(frozen=True)
class Section:
    label: str
    path: str
    roles: tuple[str, ...]


SECTIONS = (
    Section("Solicitudes", "/backoffice/solicitudes", REQUESTS),
    Section("Canalizaciones", "/backoffice/canalizaciones", HANDOFFS),
    Section("Calificaciones", "/backoffice/calificaciones", RATINGS),
    Section("Evaluación", "/backoffice/evaluacion", RATINGS),
    Section("Indicadores", "/backoffice/indicadores", RATINGS),
    Section("Tokens de API", "/backoffice/tokens", RATINGS),
    Section("Encuestas", "/backoffice/encuestas", RATINGS),
    Section("Envíos fallidos", "/backoffice/envios", DELIVERIES),
    Section("Catálogo", "/backoffice/catalogo", CATALOG),
    Section("Usuarios", "/backoffice/usuarios", USERS),
    Section("Auditoría", "/backoffice/auditoria", AUDIT),
)


def sections_for(role: str) -> list[Section]:
    """The sections a role may open, in menu order."""
    return [section for section in SECTIONS if role in section.roles]


def home_for(role: str) -> str:
    """Where a staff member lands after logging in: their first section, or the start page."""
    sections = sections_for(role)
    return sections[0].path if sections else "/backoffice/inicio"
