"""`appValidator.verifyObjectKeysCorrectnessOfApp`: only the keys of the spec's version are allowed.

After the formatter this never fires (it drops unknown keys); on a raw spec it does. The v1-v3 and v7
messages do not name the key, the others do.
"""

from __future__ import annotations

from ..jsjson import get, js_to_string, strict_equals
from .errors import validator_error as _fail
from .helpers import TIER_FIELDS

_V1_V3_TIERS = ("tiered",) + TIER_FIELDS
_ALLOWED_TOP_LEVEL = {
    1: ("version", "name", "description", "owner", "repotag", "port", "containerPort", "enviromentParameters",
        "commands", "containerData", "cpu", "ram", "hdd") + _V1_V3_TIERS,
    2: ("version", "name", "description", "owner", "repotag", "ports", "containerPorts", "enviromentParameters",
        "commands", "containerData", "domains", "cpu", "ram", "hdd") + _V1_V3_TIERS,
    3: ("version", "name", "description", "owner", "repotag", "ports", "containerPorts", "enviromentParameters",
        "commands", "containerData", "domains", "instances", "cpu", "ram", "hdd") + _V1_V3_TIERS,
    4: ("version", "name", "description", "owner", "compose", "instances"),
    5: ("version", "name", "description", "owner", "compose", "instances", "contacts", "geolocation"),
    6: ("version", "name", "description", "owner", "compose", "instances", "contacts", "geolocation", "expire"),
    7: ("version", "name", "description", "owner", "compose", "instances", "contacts", "geolocation", "expire",
        "nodes", "staticip"),
    8: ("version", "name", "description", "owner", "compose", "instances", "contacts", "geolocation", "expire",
        "nodes", "staticip", "enterprise", "datacenter"),
}
_COMPONENT_BASE = ("name", "description", "repotag", "ports", "containerPorts", "environmentParameters", "commands",
                   "containerData", "domains")
_ALLOWED_COMPONENT = {
    4: _COMPONENT_BASE + ("cpu", "ram", "hdd") + _V1_V3_TIERS,
    5: _COMPONENT_BASE + ("cpu", "ram", "hdd") + _V1_V3_TIERS,
    6: _COMPONENT_BASE + ("cpu", "ram", "hdd") + _V1_V3_TIERS,
    7: _COMPONENT_BASE + ("secrets", "repoauth", "cpu", "ram", "hdd") + _V1_V3_TIERS,
    8: _COMPONENT_BASE + ("repoauth", "cpu", "ram", "hdd"),
}


def check_allowed_keys(spec: dict) -> None:
    version = get(spec, "version")
    number = next((v for v in range(1, 9) if strict_equals(version, v)), None)
    if number is None:
        raise _fail(f"Invalid version specification of {js_to_string(version)}", "version")
    for key in spec:
        if key not in _ALLOWED_TOP_LEVEL[number]:
            if number <= 3 or number == 7:  # these versions do not name the key
                raise _fail(f"Unsupported parameter for v{number} app specifications", key)
            raise _fail(f"Unsupported parameter for v{number} app specifications: {key}", key)
    if number <= 3:
        return
    for index, component in enumerate(get(spec, "compose")):
        for key in component:
            if key not in _ALLOWED_COMPONENT[number]:
                field = f"compose[{index}].{key}"
                if number == 7:
                    raise _fail("Unsupported parameter for v7 app specifications", field)
                raise _fail(f"Unsupported parameter for v{number} app specifications in component: {key}", field)
