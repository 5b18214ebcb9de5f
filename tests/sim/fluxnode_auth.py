"""Authentication state of one simulated node, with FluxOS's rules (reference §1).

- `/id/loginphrase` issues one-time phrases kept 15 minutes, on this node only;
- `/id/verifylogin` checks the login with fluxpanel.fluxos.identity (FluxOS's exact error texts),
  requires the phrase to be one this node issued, consumes it, and stores a 14-day session;
- privileges follow §1.4: admin/fluxteam need a stored session on this node; user, appowner and
  appownerabove also accept a self-issued phrase younger than 16 h / 2 h; the header's signature is
  re-verified every time.

The crypto and the FluxOS-exact checks are the project's own modules; this file only keeps the
node's state and applies the decision table.

A node can also be made hostile (tests, in-process through `SimFleet.call`): `phrase_override` is
what /id/loginphrase and /id/emergencyphrase answer instead of a phrase (any text: another
site's sign-in message, a stale phrase…), and a login with it "succeeds"; `login_override` is
merged into verifylogin's answer (a bad `expireAt`, say). `captured` keeps every verifylogin body
the node was sent: what a hostile node walks away with.
"""

from __future__ import annotations

import secrets
from functools import lru_cache

from fluxpanel.fluxos import identity
from fluxpanel.fluxos.signatures import verify_message

PHRASE_TTL_MS = 15 * 60 * 1000
SESSION_TTL_MS = 14 * 24 * 3600 * 1000
APP_OWNER_MAX_AGE_MS = 2 * 3600 * 1000
USER_MAX_AGE_MS = 16 * 3600 * 1000


@lru_cache(maxsize=65536)
def signature_ok(message: str, address: str, signature: str) -> bool:
    """Verification is pure, and a panel re-sends the same header on every call: cache it."""
    return verify_message(message, address, signature)


class NodeAuth:
    def __init__(self, admin_zelid: str, team_ids: tuple[str, ...]):
        self.admin_zelid = admin_zelid
        self.team_ids = team_ids
        self.phrases: dict[str, int] = {}  # phrase -> issued at (ms)
        self.sessions: dict[tuple[str, str], dict] = {}  # (zelid, phrase) -> stored session
        self.phrase_override = None  # hostile: what the node gives instead of a phrase
        self.login_override: dict | None = None  # hostile: merged into verifylogin's answer
        self.captured: list[dict] = []  # every verifylogin body received

    def make_hostile(self, *, phrase=None, login: dict | None = None) -> None:
        self.phrase_override, self.login_override = phrase, login

    def clear_hostile(self) -> None:
        self.phrase_override, self.login_override = None, None
        self.captured.clear()

    # ------------------------------------------------------------------ phrases and logins

    def issue_phrase(self, now_ms: int) -> str:
        self._prune(now_ms)
        if self.phrase_override is not None:
            return self.phrase_override
        phrase = fluxos_phrase(now_ms)
        self.phrases[phrase] = now_ms
        return phrase

    def _prune(self, now_ms: int) -> None:
        if len(self.phrases) > 64:
            self.phrases = {p: t for p, t in self.phrases.items() if now_ms - t < PHRASE_TTL_MS}
        if len(self.sessions) > 256:
            self.sessions = {k: s for k, s in self.sessions.items() if s["expireAt"] > now_ms}

    def phrase_active(self, phrase: str, now_ms: int) -> bool:
        issued = self.phrases.get(phrase)
        return issued is not None and now_ms - issued < PHRASE_TTL_MS

    def verify_login(self, body: dict, now_ms: int) -> dict:
        """The `data` of a successful login; raises identity.LoginError with FluxOS's text."""
        zelid = body.get("zelid") or body.get("address")
        phrase = body.get("loginPhrase") or body.get("message")
        signature = body.get("signature")
        self.captured.append(dict(body))
        if self.phrase_override is not None and phrase == self.phrase_override:
            return {"message": "Successfully logged in", "zelid": zelid, "loginPhrase": phrase,
                    "signature": signature, "privilage": "admin", "createdAt": _iso(now_ms),
                    "expireAt": _iso(now_ms + SESSION_TTL_MS), **(self.login_override or {})}
        if self.phrase_active(phrase, now_ms) if isinstance(phrase, str) else False:
            identity.check_login(zelid, phrase, signature, now_ms)
        else:
            # FluxOS looks the phrase up after the field checks and before the signature, so
            # only the field errors can come before "no longer valid".
            try:
                identity.check_login(zelid, phrase, signature, now_ms)
            except identity.LoginError as exc:
                if str(exc) not in (identity.INVALID_SIGNATURE, identity.EXPIRED_MESSAGE):
                    raise
            raise identity.LoginError(identity.EXPIRED_MESSAGE)
        self.phrases.pop(phrase, None)
        stamp = int(phrase[:13])
        self.sessions[(zelid, phrase)] = {"zelid": zelid, "loginPhrase": phrase,
                                          "signature": signature, "createdAt": stamp,
                                          "expireAt": stamp + SESSION_TTL_MS}
        return {"message": "Successfully logged in", "zelid": zelid, "loginPhrase": phrase,
                "signature": signature, "privilage": self.role_of(zelid),
                "createdAt": _iso(stamp), "expireAt": _iso(stamp + SESSION_TTL_MS),
                **(self.login_override or {})}

    def role_of(self, zelid: str) -> str:
        if zelid in self.team_ids:
            return "fluxteam"
        if zelid == self.admin_zelid:
            return "admin"
        return "user"

    # ------------------------------------------------------------------ privilege checks

    def credentials(self, header: str | None) -> tuple[str, str, str] | None:
        if not header:
            return None
        try:
            auth = identity.parse_zelidauth(header)
        except Exception:  # a header FluxOS cannot parse authorises nothing
            return None
        zelid, signature, phrase = (auth.get("zelid"), auth.get("signature"), auth.get("loginPhrase"))
        if not (isinstance(zelid, str) and isinstance(signature, str) and isinstance(phrase, str)):
            return None
        if not (zelid and signature and phrase):
            return None
        return zelid, signature, phrase

    def stored(self, zelid: str, phrase: str, now_ms: int) -> bool:
        session = self.sessions.get((zelid, phrase))
        return session is not None and session["expireAt"] > now_ms

    def authorize(self, header: str | None, privilege: str, now_ms: int, *,
                  app_owner: str | None = None) -> bool:
        creds = self.credentials(header)
        if creds is None:
            return False
        zelid, signature, phrase = creds
        is_team = zelid in self.team_ids
        is_admin = zelid == self.admin_zelid
        if privilege in ("admin", "fluxteam", "adminandfluxteam"):
            allowed = {"admin": is_admin, "fluxteam": is_team,
                       "adminandfluxteam": is_admin or is_team}[privilege]
            if not allowed or not self.stored(zelid, phrase, now_ms):
                return False
        elif privilege in ("appowner", "appownerabove", "user"):
            if privilege == "appowner":
                allowed = app_owner is not None and zelid == app_owner
            elif privilege == "appownerabove":
                allowed = (app_owner is not None and zelid == app_owner) or is_team or is_admin
            else:
                allowed = True
            if not allowed:
                return False
            max_age = USER_MAX_AGE_MS if privilege == "user" else APP_OWNER_MAX_AGE_MS
            if not self.stored(zelid, phrase, now_ms) and not _phrase_fresh(phrase, now_ms, max_age):
                return False
        else:
            return False
        return signature_ok(phrase, zelid, signature)

    def check_privilege_body(self, body: dict, now_ms: int) -> str:
        """POST /id/checkprivilege: the first of admin, fluxteam, user that the triple passes."""
        header_like = {"zelid": body.get("zelid"), "signature": body.get("signature"),
                       "loginPhrase": body.get("loginPhrase")}
        header = identity.format_zelidauth(str(header_like["zelid"] or ""),
                                           str(header_like["signature"] or ""),
                                           str(header_like["loginPhrase"] or ""))
        for role in ("admin", "fluxteam", "user"):
            if self.authorize(header, role, now_ms):
                return role
        return "none"

    # ------------------------------------------------------------------ sessions

    def sessions_of(self, zelid: str, now_ms: int) -> list[dict]:
        return [{"zelid": s["zelid"], "loginPhrase": s["loginPhrase"],
                 "createdAt": _iso(s["createdAt"]), "expireAt": _iso(s["expireAt"])}
                for s in self.sessions.values() if s["zelid"] == zelid and s["expireAt"] > now_ms]

    def logout(self, zelid: str, phrase: str) -> bool:
        return self.sessions.pop((zelid, phrase), None) is not None

    def logout_all(self, zelid: str) -> int:
        doomed = [key for key in self.sessions if key[0] == zelid]
        for key in doomed:
            del self.sessions[key]
        return len(doomed)


_BASE36 = "0123456789abcdefghijklmnopqrstuvwxyz"


def fluxos_phrase(now_ms: int) -> str:
    """What idService.loginPhrase makes: String(Date.now()) and four
    Math.random().toString(36).substring(2, 15) (each mostly 10-11 characters, at most 13)."""
    chunks = ("".join(secrets.choice(_BASE36) for _ in range(9 + secrets.randbelow(5)))
              for _ in range(4))
    return str(now_ms) + "".join(chunks)


def _phrase_fresh(phrase: str, now_ms: int, max_age_ms: int) -> bool:
    try:
        return bool(identity.check_session_phrase(phrase, now_ms, max_age_ms=max_age_ms))
    except identity.LoginError:
        return False


def _iso(ms: int) -> str:
    from tests.sim.fluxnode_apps import iso_time

    return iso_time(ms)
