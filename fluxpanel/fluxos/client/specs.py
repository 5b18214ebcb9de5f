"""App specifications: global specs, owners, locations, verification, price, register/update."""

from __future__ import annotations

from .transport import BIG_LIST_MAX_BODY, SUBMIT_READ_TIMEOUT


class AppSpecsMixin:

    def global_app_specs(self, *, app: str | None = None, owner: str | None = None,
                         hash: str | None = None) -> list:
        """Global app specs, optionally filtered (exact match) by name, owner or hash."""
        query = {"hash": hash, "owner": owner, "appname": app}
        return self._get("apps", "globalappsspecifications",
                         query={k: v for k, v in query.items() if v is not None} or None,
                         limit=BIG_LIST_MAX_BODY)

    def app_spec(self, app: str) -> dict:
        """Current spec of one app (global, else local) with `hash` and `height`."""
        return self._get("apps", "appspecifications", app)

    def app_owner(self, app: str) -> str:
        return self._get("apps", "appowner", app)

    def app_location(self, app: str) -> list:
        """Where an app runs: `[{name, hash, ip ("ip" or "ip:port"), broadcastedAt, …}]`."""
        return self._get("apps", "location", app)

    def app_permanent_messages(self, app: str) -> list:
        """FluxOS's permanent messages of one app (every register/update message in force once)."""
        return self._get("apps", "permanentmessages", query={"appname": app}, limit=BIG_LIST_MAX_BODY)

    def temporary_messages(self, hash: str | None = None) -> list:
        """FluxOS's temporary app messages (signed register/update messages not yet paid, kept for
        an hour), or only the one with `hash`: `[{type, version, appSpecifications, hash,
        timestamp, signature, receivedAt, expireAt, arcaneSender}]`."""
        return self._get("apps", "temporarymessages", hash, limit=None if hash else BIG_LIST_MAX_BODY)

    def permanent_messages(self, *, hash: str) -> list:
        """FluxOS's permanent message(s) with this hash (an app message once in force)."""
        return self._get("apps", "permanentmessages", query={"hash": hash})

    def app_locations(self) -> list:
        return self._get("apps", "locations", limit=BIG_LIST_MAX_BODY)

    def verify_registration_spec(self, spec: dict) -> dict:
        """Validate a new spec; returns the canonical (formatted) spec to sign."""
        return self._post_text(("apps", "verifyappregistrationspecifications"), spec)

    def verify_update_spec(self, spec: dict) -> dict:
        return self._post_text(("apps", "verifyappupdatespecifications"), spec)

    def calculate_price(self, spec: dict) -> dict:
        """`{usd, flux, fluxDiscount}` for a spec (the node's own price computation)."""
        return self._post_text(("apps", "calculatefiatandfluxprice"), spec)

    def deployment_information(self) -> dict:
        """Price table, payment address, port rules and limits, as this node knows them."""
        return self._get("apps", "deploymentinformation")

    def register_app(self, spec: dict, timestamp: int, signature: str) -> str:
        """Submit a signed registration; returns the 64-hex message hash to pay for."""
        return self._submit("appregister", "fluxappregister", spec, timestamp, signature)

    def update_app(self, spec: dict, timestamp: int, signature: str) -> str:
        """Submit a signed update (signed by the current owner); returns the message hash."""
        return self._submit("appupdate", "fluxappupdate", spec, timestamp, signature)

    def _submit(self, route, message_type, spec, timestamp, signature) -> str:
        body = {"type": message_type, "version": 1, "appSpecification": spec,
                "timestamp": int(timestamp), "signature": signature}
        return self._post_text(("apps", route), body, auth=True,
                               timeout=(self.timeout[0], SUBMIT_READ_TIMEOUT))
