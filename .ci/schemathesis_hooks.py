"""Schemathesis hooks for .ci/schemathesis (loaded through SCHEMATHESIS_HOOKS).

1. Unique idempotency keys. kyb's contract says an `idempotency-key` is unique per new request:
   the same key with another method, path or body is a 422 `idempotency_key_reused`, by design.
   Schemathesis cannot know that and draws the same small keys (`0`, `NIL`, ...) for different
   requests, so its `positive_data_acceptance` check would fail on every POST for a reason that
   is not a defect. `before_call` makes a client that follows the contract: a key the server
   would take (1 to 255 visible ASCII characters) is replaced by a fresh one, so each request
   carries its own. A key it would refuse (empty, too long, other characters) is left exactly as
   generated, so negative cases still reach the server. Off with ST_RAW_IDEMPOTENCY_KEYS=1.

2. Two refusals of schema-valid data that are kyb's design, not gaps in the document, which
   `filter_failure` drops from `positive_data_acceptance` (ST202) and from nothing else:
   - a `starting_after` that is a well-formed id but not one of the platform's objects is a 400
     `parameter_invalid` naming `starting_after` (as Stripe does): a cursor is only ever one the
     service handed out, and JSON Schema cannot say "an id that exists";
   - a webhook `url` whose host is `localhost` or an address (literal, or what the name
     resolves to) that is not globally routable is a 400 naming `url`: the SSRF guard, which
     depends on DNS at request time;
   - a tree size (`tree_size`, `from`, `to` of the audit log's proofs) that is a whole number but
     not the size of one of the log's checkpoints, or whose tree does not hold the row, or a
     `from` over `to`: like a cursor, a checkpoint is only ever one the service handed out.
   Anything else, including a malformed cursor or another refusal of a URL, still fails the run.

The summary counts what was dropped ("Filtered: N").
"""

from __future__ import annotations

import ipaddress
import itertools
import re
import socket
import urllib.parse
import uuid

import schemathesis

_ACCEPTED_KEY = re.compile(r"[!-~]{1,255}")
_RUN = uuid.uuid4().hex[:12]
_COUNTER = itertools.count(1)
_WELL_FORMED_ID = re.compile(r"[a-z]+_[A-Za-z0-9]{1,64}")


@schemathesis.hook
def before_call(context, case, **kwargs):
    headers = case.headers
    if not headers:
        return
    for name in list(headers):
        if name.lower() != "idempotency-key":
            continue
        value = headers[name]
        if isinstance(value, str) and _ACCEPTED_KEY.fullmatch(value):
            headers[name] = f"st-{_RUN}-{next(_COUNTER)}"


def _error(response) -> dict:
    try:
        body = response.json()
    except Exception:
        return {}
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, dict) else {}


def _unknown_cursor(case, error: dict) -> bool:
    """A well-formed `starting_after` refused as unknown (the refusal of a malformed one quotes it)."""
    value = (case.query or {}).get("starting_after")
    return (
        isinstance(value, str)
        and _WELL_FORMED_ID.fullmatch(value) is not None
        and value not in str(error.get("message", ""))
    )


def _special_host(host: str) -> bool:
    """`localhost`, or an address that is not globally routable, as written or as resolved."""
    host = host.rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return not ipaddress.ip_address(host).is_global
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, 443, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return False
    return any(not ipaddress.ip_address(info[4][0].split("%")[0]).is_global for info in infos)


def _private_webhook_url(case) -> bool:
    url = case.body.get("url") if isinstance(case.body, dict) else None
    if not isinstance(url, str):
        return False
    try:
        host = urllib.parse.urlsplit(url.strip()).hostname
    except ValueError:
        return False
    return bool(host) and _special_host(host)


@schemathesis.hook
def filter_failure(context, failure, case, response):
    code = getattr(failure, "code", None)
    if code != "ST202" or response.status_code != 400:
        return True
    error = _error(response)
    if error.get("code") != "parameter_invalid":
        return True
    if error.get("param") == "starting_after" and _unknown_cursor(case, error):
        return False
    if error.get("param") == "url" and _private_webhook_url(case):
        return False
    if error.get("param") in ("tree_size", "from", "to") and _unknown_checkpoint(case, error):
        return False
    return True


def _unknown_checkpoint(case, error: dict) -> bool:
    """A well-formed tree size refused for the log's state (the refusal of a malformed one says
    it must be a whole number)."""
    value = str((case.query or {}).get(error.get("param"), ""))
    message = error.get("message", "")
    return value.isdigit() and int(value) >= 1 and "whole number" not in message
