"""Schemathesis hooks for .ci/schemathesis (loaded through SCHEMATHESIS_HOOKS).

kyb's contract says an `idempotency-key` is unique per new request: the same key with another
method, path or body is a 422 `idempotency_key_reused`, by design. Schemathesis cannot know that
and draws the same small keys (`0`, `NIL`, ...) for different requests, so its
`positive_data_acceptance` check would fail on every POST for a reason that is not a defect.

This hook makes a client that follows the contract: a key the server would take (1 to 255 visible
ASCII characters) is replaced by a fresh one, so each request carries its own. A key it would
refuse (empty, too long, other characters) is left exactly as generated, so the document's
missing constraints on the header are still found, and so are negative cases.

Turn it off with ST_RAW_IDEMPOTENCY_KEYS=1 in .ci/schemathesis.
"""

from __future__ import annotations

import itertools
import re
import uuid

import schemathesis

_ACCEPTED_KEY = re.compile(r"[!-~]{1,255}")
_RUN = uuid.uuid4().hex[:12]
_COUNTER = itertools.count(1)


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
