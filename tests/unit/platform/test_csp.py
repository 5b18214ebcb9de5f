"""Content-Security-Policy on every page, and no template that needs inline script (issue 10 F10)."""
import re
from pathlib import Path

import pytest
from django.urls import reverse

TEMPLATES = Path(__file__).resolve().parents[3] / "templates"
# An inline <script> (no src), an event-handler attribute, a javascript: URL, an htmx inline handler.
INLINE_SCRIPT = [
    (re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I), "inline <script>"),
    (re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.I | re.S), "on*= handler"),
    (re.compile(r"javascript:", re.I), "javascript: URL"),
    (re.compile(r"\shx-on[:-]", re.I), "hx-on handler"),
    (re.compile(r"hx-trigger=\"[^\"]*\[", re.I), "htmx trigger filter (needs eval)"),
]


def _policy(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()}


@pytest.mark.parametrize("url", ["/accounts/login/", "/healthz", "/nowhere/"])
def test_it_sends_the_policy_on_public_answers(db, client, url):
    policy = _policy(client.get(url))
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"]


def test_it_sends_the_policy_on_team_pages(personas, client_as):
    client = client_as("manager")
    for name in ("accounts:team", "accounts:audit", "jobs:list"):
        response = client.get(reverse(name))
        assert response.status_code == 200
        assert "'unsafe-inline'" not in _policy(response)["script-src"]


@pytest.mark.parametrize("path", sorted(TEMPLATES.rglob("*.html")), ids=lambda p: str(p.relative_to(TEMPLATES)))
def test_it_finds_no_inline_script_in_a_template(path):
    text = re.sub(r"{#.*?#}", "", path.read_text(), flags=re.S)  # template comments render nothing
    found = [label for pattern, label in INLINE_SCRIPT if pattern.search(text)]
    assert not found, f"{path.relative_to(TEMPLATES)}: {found} (move it to static/js, see panel.js)"


def test_it_tells_htmx_not_to_inject_styles_or_eval(db, client):
    page = client.get(reverse("accounts:login")).content.decode()
    config = re.search(r'<meta name="htmx-config" content=\'([^\']+)\'', page).group(1)
    assert '"includeIndicatorStyles":false' in config and '"allowEval":false' in config
    assert 'src="/static/js/panel.js"' in page
