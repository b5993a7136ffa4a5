"""Every case of the conversation files that ship beside the sample catalogues
(`catalog/samples/*.conversations.yml`) passes, one test per case, as
`ventanilla test conversations` runs them (a fresh database per case, the file's clock).

The understanding model of each catalogue is built once for the module and the template
database once per catalogue. The runner works on its own SQLite files, so these are not
parametrised over PostgreSQL.
"""

import pytest

from bot.rehearsal import report
from bot.rehearsal.runner import Rehearsal
from bot.rehearsal.script import Case, Script, load
from ventanilla.settings import SAMPLE_CATALOG, Settings

FILES = sorted(SAMPLE_CATALOG.parent.glob("*.conversations.yml"))  # not the faq- ones
CASES = [(script, case) for script in map(load, FILES) for case in script.cases]


@pytest.fixture(scope="module")
def rehearsal(tmp_path_factory: pytest.TempPathFactory) -> Rehearsal:
    return Rehearsal(Settings(_env_file=None), tmp_path_factory.mktemp("conversaciones"))


def test_every_bundled_catalogue_ships_a_conversation_file() -> None:
    catalogues = {p for p in SAMPLE_CATALOG.parent.glob("*.yml") if p.name.count(".") == 1}
    assert {script.catalog for script, _ in CASES} == catalogues


@pytest.mark.parametrize(
    ("script", "case"),
    CASES,
    ids=[f"{script.path.name.split('.')[0]}-{case.test_case}" for script, case in CASES],
)
async def test_bundled_conversation_case_passes(
    rehearsal: Rehearsal, script: Script, case: Case
) -> None:
    await rehearsal.prepare([script])  # builds the catalogue's template the first time
    result = await rehearsal.run_case(script, case)
    assert result.passed, report.text([result])
