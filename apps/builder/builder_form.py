"""The Build tab's form ⇄ a v8 spec dict.

Top-level fields are named as in the spec; component fields are `c<i>-<field>`; lists
(contacts, geolocation, nodes, ports, containerPorts, domains, environmentParameters, commands)
are one item a line. Numbers keep their JSON type (int when integral), so a valid spec survives
spec → form → spec unchanged.
"""
from __future__ import annotations

MAX_COMPONENTS = 10  # FluxOS v4+ compose limit (verifyAppSpecifications: "Too many components")
TOP_LISTS = ("contacts", "geolocation", "nodes")
COMPONENT_TEXT = ("name", "description", "repotag", "repoauth", "containerData")
COMPONENT_LISTS = ("domains", "environmentParameters", "commands")
COMPONENT_NUMBER_LISTS = ("ports", "containerPorts")
COMPONENT_NUMBERS = ("cpu", "ram", "hdd")


def _number(text: str):
    text = (text or "").strip()
    if text == "":
        return text
    try:
        value = float(text)
    except ValueError:
        return text  # left as typed: FluxOS's own check names it
    return int(value) if value.is_integer() and "." not in text else value


def _lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def blank_component() -> dict:
    return {"name": "", "description": "", "repotag": "", "ports": [], "domains": [],
            "environmentParameters": [], "commands": [], "containerPorts": [], "containerData": "",
            "cpu": 0.5, "ram": 500, "hdd": 5, "repoauth": ""}


def spec_to_form(spec: dict) -> dict:
    """The values the template shows: top-level fields and a list of component dicts (lists as text)."""
    spec = spec if isinstance(spec, dict) else {}
    top = {key: spec.get(key, "") for key in ("name", "description", "owner", "instances", "expire", "enterprise")}
    for key in TOP_LISTS:
        top[key] = "\n".join(str(v) for v in spec.get(key) or [])
    top["staticip"] = bool(spec.get("staticip"))
    # FluxOS keeps a falsy enterprise as given (false or ""): the form remembers which.
    top["enterprise_false"] = spec.get("enterprise") is False
    if top["enterprise_false"]:
        top["enterprise"] = ""
    top["has_datacenter"] = "datacenter" in spec
    top["datacenter"] = bool(spec.get("datacenter"))
    components = []
    for component in spec.get("compose") or []:
        component = component if isinstance(component, dict) else {}
        row = {key: component.get(key, "") for key in COMPONENT_TEXT + COMPONENT_NUMBERS}
        for key in COMPONENT_LISTS + COMPONENT_NUMBER_LISTS:
            row[key] = "\n".join(str(v) for v in component.get(key) or [])
        components.append(row)
    top["components"] = components
    return top


def form_to_spec(data) -> dict:
    """Parse the posted form (a QueryDict or dict) into a v8 spec dict."""
    get = data.get
    spec: dict = {"version": 8, "name": get("name", "").strip(), "description": get("description", ""),
                  "owner": get("owner", "").strip()}
    count = 0
    while f"c{count}-name" in data and count < MAX_COMPONENTS + 1:
        count += 1
    compose = []
    for index in range(count):
        prefix = f"c{index}-"
        component = {"name": get(prefix + "name", "").strip(), "description": get(prefix + "description", ""),
                     "repotag": get(prefix + "repotag", "").strip()}
        component["ports"] = [_number(v) for v in _lines(get(prefix + "ports", ""))]
        for key in COMPONENT_LISTS:
            component[key] = _lines(get(prefix + key, ""))
        # Domains pair with ports one for one, blanks included ("" = no domain for that port).
        domains = [line.strip() for line in get(prefix + "domains", "").replace("\r", "").split("\n")]
        while domains and domains[-1] == "" and len(domains) > len(component["ports"]):
            domains.pop()
        domains += [""] * (len(component["ports"]) - len(domains))
        component["domains"] = domains
        component["containerPorts"] = [_number(v) for v in _lines(get(prefix + "containerPorts", ""))]
        component["containerData"] = get(prefix + "containerData", "").strip()
        for key in COMPONENT_NUMBERS:
            component[key] = _number(get(prefix + key, ""))
        component["repoauth"] = get(prefix + "repoauth", "")
        compose.append(component)
    spec["compose"] = compose
    spec["instances"] = _number(get("instances", ""))
    spec["contacts"] = _lines(get("contacts", ""))
    spec["geolocation"] = _lines(get("geolocation", ""))
    spec["expire"] = _number(get("expire", ""))
    spec["nodes"] = _lines(get("nodes", ""))
    spec["staticip"] = get("staticip") in ("on", "true", "1")
    if get("has_datacenter"):
        spec["datacenter"] = get("datacenter") in ("on", "true", "1")
    spec["enterprise"] = get("enterprise", "")
    if spec["enterprise"] == "" and get("enterprise_false"):
        spec["enterprise"] = False
    return spec


def apply_op(spec: dict, op: str, index: int | None) -> str | None:
    """Add/remove/move a component in place; returns a message when the op is refused."""
    compose = spec.setdefault("compose", [])
    if op == "add_component":
        if len(compose) >= MAX_COMPONENTS:
            return f"A v8 app has at most {MAX_COMPONENTS} components."
        compose.append(blank_component())
        return None
    if index is None or not 0 <= index < len(compose):
        return "No such component."
    if op == "remove_component":
        if len(compose) <= 1:
            return "An app needs at least one component."
        compose.pop(index)
    elif op == "move_up" and index > 0:
        compose[index - 1], compose[index] = compose[index], compose[index - 1]
    elif op == "move_down" and index < len(compose) - 1:
        compose[index + 1], compose[index] = compose[index], compose[index + 1]
    return None
