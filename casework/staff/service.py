"""Transitional: the staff service is split into `accounts`, `audit` and `instance_secrets`.

Only these names remain here, for the files another branch is rewriting at the same time
(casework/inbox/service.py, casework/outbox/service.py, ventanilla/cli.py) and for bot/,
which this branch does not touch. Point those imports at the new modules and delete this
file; nothing else may import it (tests/test_layers.py checks).
"""

from casework.staff.accounts import StaffError, create_user, generate_password
from casework.staff.audit import audit
from casework.staff.instance_secrets import instance_secret

__all__ = ["StaffError", "audit", "create_user", "generate_password", "instance_secret"]
