"""Refuse, panel-wide, any submitted form that carries a private key, WIF or seed phrase.

The wallet pages check their own forms (SecretsGuardMixin) and show the refusal inside the form;
every other page is covered here, so "never paste a key into any field" holds for every form of
the panel, present and future. The request is answered 400 before the view runs: nothing of it
is validated, stored, rendered back or logged.
"""
from __future__ import annotations

import logging

from django.shortcuts import render

from apps.wallets.secrets_guard import find_secret, refusal_message

log = logging.getLogger(__name__)
WRITE_METHODS = {"POST", "PUT", "PATCH"}


class SecretsGuardMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.method not in WRITE_METHODS:
            return None
        if getattr(view_func, "__module__", "").startswith("apps.wallets."):
            return None  # those views refuse inside their own forms, with the same message
        for name in request.POST:
            for value in request.POST.getlist(name):
                kind = find_secret(value)
                if kind:
                    # Log the field's name and the kind only: never the value.
                    log.warning("refused a submission carrying %s in field %r at %s", kind, name, request.path)
                    response = render(request, "400_secret.html",
                                      {"message": refusal_message(kind)}, status=400)
                    return response
        return None
