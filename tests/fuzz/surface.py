"""The panel's attack surface, found rather than listed: every URL pattern from the resolver, and
every parameter name its views read (from the rendered pages' forms and links, the views' source
and the apps' form classes), so a new URL or field is fuzzed without touching this folder.
"""
from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from collections import defaultdict
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from django import forms
from django.urls import Resolver404, URLPattern, URLResolver, get_resolver, resolve

REPO = Path(__file__).resolve().parents[2]
SKIPPED_NAMESPACES = {"admin"}  # Django's own admin: staff only, not the panel's code
SLOT = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")


@dataclass(frozen=True)
class Route:
    name: str  # namespaced URL name, e.g. "nodes:detail"
    template: str  # full route, e.g. "fleet/nodes/<int:pk>/"
    module: str  # the view's module, e.g. "apps.nodes.views"
    view: object = field(default=None, compare=False, repr=False)

    @property
    def slots(self) -> list[tuple[str, str]]:
        """(name, converter) of each path slot."""
        return [(m["name"], m["converter"] or "str") for m in SLOT.finditer(self.template)]

    @property
    def app_dir(self) -> Path:
        parts = self.module.split(".")
        return REPO.joinpath(*parts[:2]) if parts[0] == "apps" else REPO / parts[0]

    def path(self, values: dict[str, str]) -> str:
        """The URL path with each slot replaced by its (already percent-encoded) value."""
        return "/" + SLOT.sub(lambda m: values[m["name"]], self.template)


def routes() -> list[Route]:
    found = []

    def walk(patterns, prefix: str, namespace: str):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                if pattern.namespace in SKIPPED_NAMESPACES:
                    continue
                inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
                walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
            elif isinstance(pattern, URLPattern):
                callback = inspect.unwrap(pattern.callback)
                module = getattr(callback, "view_class", callback).__module__
                name = namespace + (pattern.name or str(pattern.pattern))
                found.append(Route(name=name, template=prefix + str(pattern.pattern), module=module,
                                   view=callback))

    walk(get_resolver().url_patterns, "", "")
    return found


# ----------------------------------------------------------------------------- from the source

# `request.GET.get("q")`, `params.get("sort", …)`, `request.POST.getlist("ids")`, `GET["x"]`,
# `"prefix" in request.POST`: the ways this code base reads a parameter.
READS = [
    re.compile(r"""(?:GET|POST|FILES|params|data|query)\s*\.\s*(?:get|getlist|pop)\(\s*["']([\w\-.]+)["']"""),
    re.compile(r"""(?:GET|POST|FILES)\s*\[\s*["']([\w\-.]+)["']"""),
    re.compile(r"""["']([\w\-.]+)["']\s+(?:not\s+)?in\s+request\.(?:GET|POST)"""),
]


def names_read_in(text: str) -> set[str]:
    names = set()
    for pattern in READS:
        names.update(pattern.findall(text))
    return names


def source_names(app_dir: Path) -> set[str]:
    """Every parameter name any module of the app reads."""
    return set().union(*(names_read_in(path.read_text()) for path in app_dir.rglob("*.py")
                         if "migrations" not in path.parts))


def view_source(route: Route) -> tuple[str, str]:
    """(the view function's source, its module's source); empty when not readable."""
    try:
        return inspect.getsource(route.view), inspect.getsource(inspect.getmodule(route.view))
    except (OSError, TypeError):
        return "", ""


def view_names(route: Route) -> dict[str, list[str]]:
    """Names the view function itself reads, and the fields of the form classes it builds
    (name -> plausible values)."""
    view_text, _ = view_source(route)
    found: dict[str, list[str]] = {name: [] for name in names_read_in(view_text)}
    namespace = getattr(route.view, "__globals__", {})
    for class_name in set(re.findall(r"\b([A-Z]\w*Form)\(", view_text)):
        cls = namespace.get(class_name)
        if isinstance(cls, type) and issubclass(cls, forms.BaseForm):
            for name, form_field in cls.base_fields.items():
                found.setdefault(name, []).extend(plausible_values(form_field))
    return found


def form_fields(app_dir: Path) -> dict[str, list[str]]:
    """Field name -> plausible values, for every form class of the app (base_fields)."""
    package = ".".join(app_dir.relative_to(REPO).parts)
    modules = []
    for info in pkgutil.walk_packages([str(app_dir)], prefix=package + "."):
        if ".migrations" in info.name or not re.search(r"forms?$|forms\.", info.name):
            continue
        modules.append(importlib.import_module(info.name))
    found: dict[str, list[str]] = defaultdict(list)
    for module in modules:
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, forms.BaseForm) and cls.__module__ == module.__name__:
                for name, form_field in cls.base_fields.items():
                    found[name].extend(plausible_values(form_field))
    return found


def plausible_values(form_field) -> list[str]:
    """Values that pass the field's own type check, so fuzzing one field gets past the others."""
    if isinstance(form_field, forms.ModelChoiceField):
        return []  # its queryset is set per team in __init__; the page shows the real options
    if isinstance(form_field, forms.ChoiceField):
        return [str(value) for value, _ in form_field.choices if value not in ("", None)][:5]
    if isinstance(form_field, forms.BooleanField):
        return ["on"]
    if isinstance(form_field, forms.IntegerField):
        low = form_field.min_value if form_field.min_value is not None else 1
        return [str(low)]
    if isinstance(form_field, forms.EmailField):
        return ["ops@example.com"]
    if isinstance(form_field, forms.URLField):
        return ["http://127.0.0.1:9/"]
    return [] if form_field.required else [""]  # an optional field is happiest left empty


# ----------------------------------------------------------------------------- from the pages


@dataclass
class Found:
    """What the rendered pages say about one route: field names with sample values, and real
    values for its path slots (e.g. the node page links every live section)."""

    fields: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    slot_values: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))


URL_ATTRIBUTES = {"href", "action", "hx-get", "hx-post", "hx-put", "hx-patch", "hx-delete", "src",
                  "data-url", "data-poll-url", "data-submit-url", "data-next-url"}


class PageParser(HTMLParser):
    """Collects forms (action, fields) and every URL the page points at."""

    def __init__(self, page_path: str):
        super().__init__(convert_charrefs=True)
        self.page_path = page_path
        self.urls: list[str] = []
        self.forms: list[tuple[str, dict[str, set[str]]]] = []  # (action, fields)
        self.loose: dict[str, set[str]] = defaultdict(set)  # named inputs outside any form
        self._form: dict[str, set[str]] | None = None
        self._select: str | None = None
        self._textarea: str | None = None

    def _fields(self) -> dict[str, set[str]]:
        return self._form if self._form is not None else self.loose

    def handle_starttag(self, tag, attrs):
        attrs = {key: value or "" for key, value in attrs}
        for key, value in attrs.items():
            if key in URL_ATTRIBUTES or (key.startswith("data-") and value.startswith("/")):
                if value.startswith("/") or value.startswith("?"):
                    self.urls.append(value)
        if tag == "form":
            self._form = defaultdict(set)
            self.forms.append((attrs.get("action") or attrs.get("hx-post") or self.page_path, self._form))
        name = attrs.get("name")
        if tag in ("input", "button") and name:
            self._fields()[name].add(attrs.get("value", ""))
        elif tag == "select" and name:
            self._select = name
            self._fields()[name]
        elif tag == "option" and self._select:
            self._fields()[self._select].add(attrs.get("value", ""))
        elif tag == "textarea" and name:
            self._textarea = name
            self._fields()[name]

    def handle_data(self, data):
        if self._textarea and data.strip():
            self._fields()[self._textarea].add(data)

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def _route_of(url: str, page_path: str):
    parts = urlsplit(url)
    try:
        match = resolve(parts.path or page_path)
    except Resolver404:
        return None, {}, parts.query
    return match.view_name, match.kwargs, parts.query


def read_page(html: str, page_path: str, found: dict[str, Found]) -> None:
    parser = PageParser(page_path)
    parser.feed(html)
    page_name = _route_of(page_path, page_path)[0]
    for url in parser.urls:
        name, kwargs, query = _route_of(url, page_path)
        if name:
            for key, value in kwargs.items():
                found[name].slot_values[key].add(str(value))
            for key, value in parse_qsl(query, keep_blank_values=True):
                found[name].fields[key].add(value)
    for action, fields in parser.forms:
        name, _, query = _route_of(action, page_path)
        if name:
            for key, values in fields.items():
                found[name].fields[key] |= values
            for key, value in parse_qsl(query, keep_blank_values=True):
                found[name].fields[key].add(value)
    if page_name:  # inputs outside a form are sent by htmx with the page's own requests
        for key, values in parser.loose.items():
            found[page_name].fields[key] |= values
