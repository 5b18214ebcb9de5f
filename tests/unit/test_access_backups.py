"""Access matrix of the backups pages (see tests/access.py for the rules): viewers see the
overview, an app's backups page and its list; taking, verifying, downloading, uploading and
restoring are for operators; deleting a stored backup is for managers."""
import pytest

from apps.accounts.models import Role
from tests.access import PERSONAS, Case, check_case, operated_app


def objects(personas):
    from apps.backups.models import Backup

    found = operated_app(personas)
    found["backup"] = Backup.objects.create(
        team=personas.team, app_id=found["app"], component="web", status=Backup.Status.VERIFIED,
        storage_name="teams/0/apps/webapp/web/missing.tar.gz.sealed", size=10, sha256="0" * 64).pk
    return found


def page(o):
    return {"pk": o["app"]}


def backup(o):
    return {"pk": o["backup"]}



CASES = [
    Case("backups:overview", "get", Role.VIEWER),
    Case("backups:app", "get", Role.VIEWER, page),
    Case("backups:app", "get", Role.VIEWER, page, data={"part": "list"}),
    Case("backups:app", "get", Role.VIEWER, page, data={"restore": "1"}, ok_statuses=(200, 404)),
    Case("backups:start", "post", Role.OPERATOR, page, data={"component": "web"}),
    Case("backups:upload", "post", Role.OPERATOR, page, data={"component": "web"}),
    Case("backups:restore", "post", Role.OPERATOR, page, data={"component": "web", "url": "https://example.com/a.tar.gz"}),
    Case("backups:download", "get", Role.OPERATOR, backup),
    Case("backups:verify", "post", Role.OPERATOR, backup),
    Case("backups:delete", "post", Role.MANAGER, backup),
]


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("case", CASES, ids=[f"{c.name}-{c.method}-{i}" for i, c in enumerate(CASES)])
def test_it_access(case, persona, personas, client_as):
    check_case(case, persona, client_as(persona), objects(personas))
