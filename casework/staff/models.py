"""Staff users, their sessions, tokens and login throttles, and instance settings (the audit
log of what they did is foundation/audit.py)."""

from datetime import datetime

from sqlalchemy import Boolean, Column, ForeignKey, Integer, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from catalog.models import Department
from foundation.db import Base, UTCDateTime, utcnow

ROLES = ("admin", "editor", "agent", "evaluator")

# Which departments an agent works for: they see only those departments' requests and handoffs.
staff_departments = Table(
    "staff_departments",
    Base.metadata,
    Column(
        "staff_user_id",
        Integer,
        ForeignKey("staff_users.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column(
        "department_id",
        String(80),
        ForeignKey("departments.id", ondelete="CASCADE"),
        primary_key=True,
    ),
)


class StaffUser(Base):
    __tablename__ = "staff_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    full_name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(String(300))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    departments: Mapped[list[Department]] = relationship(
        secondary=staff_departments, lazy="selectin", order_by=Department.name
    )

    @property
    def department_ids(self) -> frozenset[str]:
        return frozenset(department.id for department in self.departments)


class InstanceSetting(Base):
    """Values generated once per installation (for example the session signing key)."""

    __tablename__ = "instance_settings"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class LoginThrottle(Base):
    """Failed logins counted per username (`user:<name>`) and per username and client address
    together (`pair:<name>|<address>`), so that guessing passwords is slowed down on every
    worker alike. Past a few free failures each one makes the next attempt wait longer
    (`blocked_until`). Never per address alone: colleagues behind one address are not locked
    out by someone else's guesses."""

    __tablename__ = "login_throttles"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failure_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    blocked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)


class StaffSession(Base):
    """A staff member's login. The browser holds a random token in its cookie; only the
    token's SHA-256 is kept, so reading this table gives no one a working cookie. Deleting the
    row ends the login at once: logging out, deactivation, a new password or a new role."""

    __tablename__ = "staff_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    staff_user_id: Mapped[int] = mapped_column(
        ForeignKey("staff_users.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class ApiToken(Base):
    """A token an evaluator uses for the read-only evaluation API. Only its SHA-256 is kept;
    the token itself is shown once, when it is created."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_user_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The first characters of the token, so staff can tell their tokens apart.
    prefix: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
