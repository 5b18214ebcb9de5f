"""Submitting a signed app message to the network as a Job (contract; issue 14 fills it in).

`start_submit(draft=..., signature=..., actor=...)` is what the signing kinds call once the key
holder's signature verified: it seals the signature for the job (never in clear), moves the draft to
`submitted`, and enqueues the submit job on commit. Returns the Job.
"""
from __future__ import annotations


def start_submit(*, draft, signature: str, actor):
    raise NotImplementedError("submission is not built yet")
