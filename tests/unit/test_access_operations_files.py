"""Access matrix of the volume browser (see tests/access.py for the rules): reading a volume
exposes the app's data, so the page, its partials, downloads and every write are for operators;
viewers get 403."""
import pytest

from apps.accounts.models import Role
from tests.access import PERSONAS, Case, check_case, operated_app


def objects(personas):
    return operated_app(personas)


def page(o):
    return {"pk": o["app"]}


TARGET = {"component": "web", "path": "appdata"}
CASES = [
    Case("operations:files", "get", Role.OPERATOR, page),
    Case("operations:files", "get", Role.OPERATOR, page, data={"part": "listing", **TARGET}),
    Case("operations:files", "get", Role.OPERATOR, page, data={"confirm": "config.yml", **TARGET}),
    Case("operations:files_download", "get", Role.OPERATOR, page, data={"path": "appdata/config.yml"}),
    Case("operations:files_download", "get", Role.OPERATOR, page, data={"path": "appdata", "folder": "1"}),
    Case("operations:files", "post", Role.OPERATOR, page, data={"action": "mkdir", "name": "new", **TARGET}),
    Case("operations:files", "post", Role.OPERATOR, page,
         data={"action": "rename", "name": "config.yml", "new_name": "old.yml", **TARGET}),
    Case("operations:files", "post", Role.OPERATOR, page, data={"action": "delete", "name": "config.yml", **TARGET}),
    Case("operations:files", "post", Role.OPERATOR, page,
         data={"action": "delete", "name": "config.yml", "confirmed": "yes", **TARGET}),
    Case("operations:files", "post", Role.OPERATOR, page, data={"action": "upload", **TARGET}),
]


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("case", CASES, ids=[f"{c.name}-{c.method}-{i}" for i, c in enumerate(CASES)])
def test_it_access(case, persona, personas, client_as):
    check_case(case, persona, client_as(persona), objects(personas))
