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
     `from` over `to`: like a cursor, a checkpoint is only ever one the service handed out;
   - a webhook replay's `since_event` that is a well-formed event id but not one of the
     platform's events (a cursor, as above);
   - a link's `return_url` on a host that is not public, as for a webhook `url`;
   - what a customer gives that the rules of its `registered_country` or today's date decide,
     which JSON Schema cannot say: a business detail not in the country's format, not one of
     its legal forms, a date out of range or not on the calendar, a website that is not one; a
     person's date of birth out of range, a share with more than two decimals, shares adding
     up to more than 100;
   - an uploaded document whose content is not a PDF, PNG or JPEG (the type is judged by the
     content, never by a header), or is empty.
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
    return _private_url(case, "url")


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
    if error.get("param") == "since_event" and _unknown_event(case, error):
        return False
    if error.get("param") == "return_url" and _private_url(case, "return_url"):
        return False
    if _rule_of_country_or_date(error):
        return False
    if error.get("param") == "file" and _not_a_document(error):
        return False
    return True


# The refusals of a customer's details that depend on the country, on today or on another item.
_COUNTRY_OR_DATE_RULES = (
    "is not in the format of",
    "must be one of",  # the country's legal forms
    "must be from",  # a date range from today
    "must be a date written YYYY-MM-DD",  # a date that is not on the calendar
    "must be a web address",
    "with at most two decimals",
    "may own at most 100",
    "would own",
    "people may list at most",  # the service's limit, when configured below the document's 25
)


def _rule_of_country_or_date(error: dict) -> bool:
    param = str(error.get("param", ""))
    if not (param.startswith("business_details.") or param.startswith("people")):
        return False
    message = str(error.get("message", ""))
    return any(rule in message for rule in _COUNTRY_OR_DATE_RULES)


def _not_a_document(error: dict) -> bool:
    message = str(error.get("message", ""))
    return "must be a PDF, PNG or JPEG" in message or message == "file is empty"


def _unknown_event(case, error: dict) -> bool:
    """A well-formed `since_event` refused as not one of the platform's events."""
    value = case.body.get("since_event") if isinstance(case.body, dict) else None
    return (
        isinstance(value, str)
        and _WELL_FORMED_ID.fullmatch(value) is not None
        and "must be the id of an event" in str(error.get("message", ""))
    )


def _private_url(case, field: str) -> bool:
    url = case.body.get(field) if isinstance(case.body, dict) else None
    if not isinstance(url, str):
        return False
    try:
        host = urllib.parse.urlsplit(url.strip()).hostname
    except ValueError:
        return False
    return bool(host) and _special_host(host)


def _unknown_checkpoint(case, error: dict) -> bool:
    """A well-formed tree size refused for the log's state (the refusal of a malformed one says
    it must be a whole number)."""
    value = str((case.query or {}).get(error.get("param"), ""))
    message = error.get("message", "")
    return value.isdigit() and int(value) >= 1 and "whole number" not in message
