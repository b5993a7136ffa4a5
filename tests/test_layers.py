"""How the packages depend on each other: rules a refactor must not quietly break."""

import ast
from pathlib import Path

ROUTES = Path(__file__).resolve().parent.parent / "backoffice" / "routes"


def _imported_modules(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def test_route_modules_leave_queries_to_the_domain_services() -> None:
    """Routes parse, authorise, call a service and render; the SQL lives in the service that
    owns the table, so no route module imports SQLAlchemy."""
    modules = sorted(ROUTES.glob("*.py"))
    assert len(modules) > 10  # the folder moved: this test must not pass on nothing
    offenders = {
        path.name: sorted(m for m in _imported_modules(path) if m.split(".")[0] == "sqlalchemy")
        for path in modules
    }
    assert {name: found for name, found in offenders.items() if found} == {}
