"""Refuse, panel-wide, any request that carries a private key, WIF or seed phrase.

The query string of every request is checked (a secret in a URL ends up in access logs, browser
history and Referer headers), and the form fields of every POST/PUT/PATCH. The request is
answered 400 before the view runs: nothing of it is validated, stored, rendered back or logged
(only the field's name and the kind of secret are logged).

Views whose own form refuses the secret inside the page (`@guards_secrets_in_form`, for forms
built from the *whole* POST with `SecretsGuardMixin`) are left to do so for their POST fields;
their query strings are still checked here. A body Django cannot parse (a broken multipart
upload) is a 400 here too, instead of an error in whichever view reads it first.
"""
from __future__ import annotations

import logging

from django.http import JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import render

from apps.wallets.secrets_guard import SECRET_CODE, find_secret, refusal_message

log = logging.getLogger(__name__)
WRITE_METHODS = {"POST", "PUT", "PATCH"}
UNREADABLE = "The submitted form data could not be read (a broken or truncated upload). Try again."


def guards_secrets_in_form(view):
    """Mark a view whose SecretsGuardMixin form sees every POST field and shows the refusal."""
    view.secrets_guard_in_form = True
    return view


def _wants_json(request) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _answer(request, message: str, code: str):
    if _wants_json(request):
        return JsonResponse({"ok": False, "error": message, "code": code}, status=400)
    return render(request, "400_secret.html", {"message": message}, status=400)


def _first_secret(query_dict) -> tuple[str, str] | None:
    for name in query_dict:
        for value in query_dict.getlist(name):
            kind = find_secret(value, name)
            if kind:
                return name, kind
    return None


class SecretsGuardMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # Here, before any middleware's process_view (CSRF reads the body there): a body that
        # cannot be parsed is the client's fault, whichever view it is for.
        if request.method in WRITE_METHODS:
            try:
                request.POST  # noqa: B018  (parses the body once; the result is cached)
            except MultiPartParserError:
                log.warning("refused an unreadable form body at %s", request.path)
                return _answer(request, UNREADABLE, "unreadable")
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        found = _first_secret(request.GET)
        where = "query string"
        if found is None and request.method in WRITE_METHODS and not getattr(
                view_func, "secrets_guard_in_form", False):
            found = _first_secret(request.POST)
            where = "form"
        if found is None:
            return None
        name, kind = found
        # Log the field's name and the kind only: never the value (nor the full URL).
        log.warning("refused a request carrying %s in %s field %r at %s", kind, where, name[:100],
                    request.path)
        return _answer(request, refusal_message(kind), SECRET_CODE)
