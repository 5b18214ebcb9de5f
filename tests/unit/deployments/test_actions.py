"""The deployments writes: role checks, bad input (nothing stored), audit rows."""
import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from apps.accounts.audit import AuditEvent
from apps.accounts.models import AuditEntry, Membership
from apps.deployments import actions
from apps.deployments.models import AppStatus, AppSyncSettings, TeamApp, WatchedOwner
from apps.nodes.models import Node

P2PKH = "112D2adLM3UKy4Z4giRbReR6gjWuvHUqB"
P2SH = "31h38a54tFMrR8kzBnP2241MFD2EUHtGha"
EVM = "0x" + "ab" * 20
WIF = "KwFfpDsaF7yxCELuyrH9gP5XL7TAt5b9HPWC1xCQbmrxvhJgMQHb"
HEX_KEY = "1f" * 32


@pytest.fixture
def m(personas):
    def member(name):
        return Membership.objects.get(user=personas.users[name])
    return member


@pytest.fixture(autouse=True)
def no_eager_sync(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False


def events(action):
    return AuditEntry.objects.filter(action=action).count()


WRITES = [
    ("add_watched_owner", lambda m, o: actions.add_watched_owner(membership=m, address=P2PKH, label="x")),
    ("set_sources", lambda m, o: actions.set_sources(membership=m, source_node=None, gateway_url="",
                                                       interval_seconds=300)),
    ("add_app", lambda m, o: actions.add_app(membership=m, name="myapp")),
    ("drop_app", lambda m, o: actions.drop_app(membership=m, app=o["app"])),
    ("restore_app", lambda m, o: actions.restore_app(membership=m, app=o["app"])),
    ("remove_watched_owner", lambda m, o: actions.remove_watched_owner(membership=m, owner=o["owner"])),
]


@pytest.mark.parametrize("persona", ["viewer", "operator"])
@pytest.mark.parametrize("name,write", WRITES, ids=[w[0] for w in WRITES])
def test_it_refuses_a_manager_write_below_manager(name, write, persona, personas, m):
    objects = {"app": TeamApp.objects.create(team=personas.team, name="existing"),
               "owner": WatchedOwner.objects.create(team=personas.team, address=EVM)}
    before = (WatchedOwner.objects.count(), TeamApp.objects.count(), AppSyncSettings.objects.count())
    with pytest.raises(PermissionDenied):
        write(m(persona), objects)
    assert (WatchedOwner.objects.count(), TeamApp.objects.count(), AppSyncSettings.objects.count()) == before
    assert not TeamApp.objects.get(name="existing").dropped
    denied = AuditEntry.objects.get(action=AuditEvent.ACCESS_DENIED)
    assert denied.outcome == AuditEntry.Outcome.DENIED


def test_it_refuses_sync_now_for_a_viewer(m):
    with pytest.raises(PermissionDenied):
        actions.sync_now(membership=m("viewer"))
    assert events(AuditEvent.ACCESS_DENIED) == 1
    assert events(AuditEvent.DEPLOYMENTS_SYNC_NOW) == 0


def test_it_queues_a_sync_for_an_operator(m, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        actions.sync_now(membership=m("operator"))
    assert len(callbacks) == 1
    assert events(AuditEvent.DEPLOYMENTS_SYNC_NOW) == 1


@pytest.mark.parametrize("address", [P2PKH, P2SH, EVM])
def test_it_watches_a_zelid(address, m, personas, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        owner = actions.add_watched_owner(membership=m("manager"), address=f" {address} ", label="ops")
    assert owner.address == address and owner.team == personas.team and owner.added_by == personas.manager
    assert len(callbacks) == 1
    entry = AuditEntry.objects.get(action=AuditEvent.DEPLOYMENTS_OWNER_ADD)
    assert entry.actor == personas.manager


@pytest.mark.parametrize("address", ["hello", "112D2adLM3UKy4Z4giRbReR6gjWuvHUqC", "0x123", "2" + P2PKH[1:],
                                     "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"])
def test_it_refuses_what_is_not_a_zelid(address, m):
    with pytest.raises(ValidationError) as error:
        actions.add_watched_owner(membership=m("manager"), address=address)
    assert error.value.messages[0] == actions.NOT_A_ZELID
    assert not WatchedOwner.objects.exists()
    assert events(AuditEvent.DEPLOYMENTS_OWNER_ADD) == 0


@pytest.mark.parametrize("secret", [WIF, HEX_KEY, "0x" + HEX_KEY])
def test_it_refuses_a_pasted_key(secret, m):
    with pytest.raises(ValidationError) as error:
        actions.add_watched_owner(membership=m("manager"), address=secret)
    assert error.value.code == "secret"
    assert "key" in error.value.messages[0].lower() or "secret" in error.value.messages[0].lower()
    assert not WatchedOwner.objects.exists()


def test_it_refuses_a_duplicate_owner(m):
    actions.add_watched_owner(membership=m("manager"), address=EVM)
    with pytest.raises(ValidationError, match="already watched"):
        actions.add_watched_owner(membership=m("manager"), address=EVM.upper().replace("0X", "0x"))
    assert WatchedOwner.objects.count() == 1


def test_it_removes_an_owner(m, personas):
    owner = actions.add_watched_owner(membership=m("manager"), address=EVM)
    actions.remove_watched_owner(membership=m("manager"), owner=owner)
    assert not WatchedOwner.objects.exists()
    assert events(AuditEvent.DEPLOYMENTS_OWNER_REMOVE) == 1


def test_it_sets_sources(m, personas, settings):
    settings.ALLOW_ANY_NODE_URL = False
    node = Node.objects.create(team=personas.team, name="n1", address="203.0.113.9:16127",
                               base_url="http://203.0.113.9:16127")
    config = actions.set_sources(membership=m("manager"), source_node=node,
                                 gateway_url="https://93.184.215.14/", interval_seconds=600)
    assert (config.source_node, config.gateway_url, config.interval_seconds) == (node, "https://93.184.215.14", 600)
    assert events(AuditEvent.DEPLOYMENTS_SOURCES_SET) == 1


@pytest.mark.parametrize("url,words", [
    ("http://127.0.0.1:16127", "may not call"),
    ("http://10.0.0.5", "may not call"),
    ("ftp://93.184.215.14", "http"),
    ("https://93.184.215.14/api/x", "no path"),
    ("https://93.184.215.14/?a=1", "no path"),
    ("https://" + "a" * 300 + ".com", "at most"),
])
def test_it_refuses_a_bad_gateway(url, words, m, settings):
    settings.ALLOW_ANY_NODE_URL = False
    with pytest.raises(ValidationError) as error:
        actions.set_sources(membership=m("manager"), source_node=None, gateway_url=url, interval_seconds=300)
    assert words in error.value.messages[0]
    assert not AppSyncSettings.objects.exists()


@pytest.mark.parametrize("seconds", [59, 86_401, 0])
def test_it_refuses_a_bad_interval(seconds, m):
    with pytest.raises(ValidationError):
        actions.set_sources(membership=m("manager"), source_node=None, gateway_url="", interval_seconds=seconds)
    assert not AppSyncSettings.objects.exists()


def test_it_refuses_another_teams_node(m, personas):
    node = Node.objects.create(team=personas.other_team, name="theirs", address="203.0.113.7:16127",
                               base_url="http://203.0.113.7:16127")
    with pytest.raises(ValidationError, match="No such node"):
        actions.set_sources(membership=m("manager"), source_node=node, gateway_url="", interval_seconds=300)


def test_it_adds_an_app_by_name(m, personas, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        app = actions.add_app(membership=m("manager"), name="MyApp")
    assert (app.origin, app.status, app.name_key, app.dropped) == (TeamApp.Origin.ADDED, AppStatus.UNKNOWN,
                                                                    "myapp", False)
    assert len(callbacks) == 1
    assert events(AuditEvent.DEPLOYMENTS_APP_ADD) == 1
    with pytest.raises(ValidationError, match="already"):
        actions.add_app(membership=m("manager"), name="myapp")


def test_it_undrops_a_dropped_app_when_added(m, personas):
    app = TeamApp.objects.create(team=personas.team, name="kept", origin=TeamApp.Origin.OWNER, dropped=True)
    again = actions.add_app(membership=m("manager"), name="Kept")
    assert again.pk == app.pk and not again.dropped and again.origin == TeamApp.Origin.OWNER


@pytest.mark.parametrize("name", ["", "-bad", "bad-", "has space", "ünï", "a" * 64, "a_b"])
def test_it_refuses_a_bad_app_name(name, m):
    with pytest.raises(ValidationError):
        actions.add_app(membership=m("manager"), name=name)
    assert not TeamApp.objects.exists()


def test_it_drops_and_restores(m, personas):
    app = TeamApp.objects.create(team=personas.team, name="web")
    actions.drop_app(membership=m("manager"), app=app)
    assert TeamApp.objects.get(pk=app.pk).dropped
    actions.restore_app(membership=m("manager"), app=app)
    assert not TeamApp.objects.get(pk=app.pk).dropped
    assert events(AuditEvent.DEPLOYMENTS_APP_DROP) == 1 and events(AuditEvent.DEPLOYMENTS_APP_RESTORE) == 1
