"""Docker image reference parsing exactly as FluxOS's `ImageVerifier` constructor does it.

Reproduces the pure part of `ZelBack/src/services/utils/imageVerifier.js` (`#parseDockerTag`):
whitespace and leading/trailing "/" checks, then `ImageVerifier.imagePattern`, which is *not*
anchored at the end (so "nginx:latest@sha256:..." parses as tag "latest") and defaults the
registry to registry-1.docker.io and the Docker Hub namespace to "library" when a tag is present.

Reproduced quirks: a tagless Docker Hub reference is "ambiguous" and FluxOS files the single name
under `namespace` with an empty `repository` ("nginx" -> namespace "nginx", repository ""); a tag
that does not start with a word character is silently dropped ("ns/image:-badtag" parses, tag
None, not useable); the messages say "backslash" for "/". A reference that parses but is not
`useable` (no tag) goes on to a registry lookup in FluxOS, which is not done here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .jsjson import JS_WHITESPACE_CLASS

DEFAULT_DOCKER_REGISTRY = "registry-1.docker.io"

# ImageVerifier.imagePattern, with JS's ASCII-only \w and \d.
IMAGE_PATTERN = re.compile(
    r"^(?:(?P<provider>(?:(?:[\w-]+(?:\.[\w-]+)+)(?::\d+)?)|[\w]+:\d+)\/)?\/?"
    r"(?P<namespace>(?:(?:[a-z0-9]+(?:(?:[._]|__|[-]*)[a-z0-9]+)*)\/){0,2})"
    r"(?P<repository>[a-z0-9\-_.]+\/{0,1}[a-z0-9\-_.]+)[:]?(?P<tag>[\w][\w.-]{0,127})?",
    re.ASCII,
)
_WHITESPACE = re.compile(JS_WHITESPACE_CLASS)
_FIELDS = ("parse_ok", "error", "provider", "namespace", "repository", "tag", "ambiguous", "useable")


@dataclass(frozen=True)
class ParsedRepotag:
    """The ImageVerifier fields after construction (`error` is its parse error detail)."""

    repotag: Any
    parse_ok: bool
    error: str | None = None
    provider: str | None = None
    namespace: str | None = None
    repository: str | None = None
    tag: str | None = None
    ambiguous: bool = False

    @property
    def useable(self) -> bool:
        """Provider, repository and tag all present (namespace is optional outside Docker Hub)."""
        return bool(self.provider) and bool(self.repository) and bool(self.tag)

    def __getitem__(self, key: str) -> Any:
        """Dict-style access to the same fields (`parsed["tag"]`)."""
        if key not in _FIELDS:
            raise KeyError(key)
        return getattr(self, key)

    def get(self, key: str, default: Any = None) -> Any:
        return self[key] if key in _FIELDS else default

    def as_dict(self) -> dict:
        """The shape of ../shared/vectors/repotags.json."""
        if not self.parse_ok:
            return {"parse_ok": False, "error": self.error}
        return {
            "parse_ok": True,
            "provider": self.provider,
            "namespace": self.namespace,
            "repository": self.repository,
            "tag": self.tag,
            "ambiguous": self.ambiguous,
            "useable": self.useable,
        }


def parse_repotag(repotag: Any) -> ParsedRepotag:
    """Parse like `new ImageVerifier(repotag)`; never raises - check `parse_ok` / `error`."""
    if not isinstance(repotag, str):
        return ParsedRepotag(repotag, False, "Invalid Docker Image Tag")
    if _WHITESPACE.search(repotag):
        return ParsedRepotag(repotag, False, f'Image tag: "{repotag}" should not contain space characters.')
    if repotag.startswith("/") or repotag.endswith("/"):
        return ParsedRepotag(repotag, False, f'Image tag: "{repotag}" cannot start or end with a backslash.')
    match = IMAGE_PATTERN.match(repotag)
    if match is None:
        return ParsedRepotag(
            repotag,
            False,
            f"Image tag: {repotag} is not in valid format [HOST[:PORT_NUMBER]/][NAMESPACE/]REPOSITORY[:TAG]",
        )
    provider = match.group("provider") or DEFAULT_DOCKER_REGISTRY
    namespace = match.group("namespace")  # always matches, possibly ""
    repository = match.group("repository")
    tag = match.group("tag")
    if tag is None:
        if provider == DEFAULT_DOCKER_REGISTRY:
            # Without a Docker Hub lookup a single name could be an image or a namespace.
            resolved_namespace = namespace or repository
            resolved_repository = repository if namespace else ""
            resolved_tag = None
            ambiguous = resolved_repository == ""
        else:
            # A registry path may split namespace/repository anywhere until a tag pins it.
            resolved_namespace, resolved_repository, resolved_tag, ambiguous = namespace, repository, "", True
    else:
        resolved_namespace = namespace or ("library" if provider == DEFAULT_DOCKER_REGISTRY else "")
        resolved_repository, resolved_tag, ambiguous = repository, tag, False
    if resolved_namespace.endswith("/"):
        resolved_namespace = resolved_namespace[:-1]
    return ParsedRepotag(
        repotag, True, None, provider, resolved_namespace, resolved_repository, resolved_tag, ambiguous
    )
