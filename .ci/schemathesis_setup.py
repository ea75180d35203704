#!/usr/bin/env python3
"""Seed a running kyb and write the Schemathesis configuration for .ci/schemathesis.

Usage: schemathesis_setup.py BASE_URL KEY_A KEY_B OUT_DIR

- Seeds platform A (KEY_A) through the API with one webhook endpoint and one business customer,
  so that the endpoint has deliveries: the deliveries operations then reach their handlers
  instead of answering 404 to every generated id.
- Writes OUT_DIR/wfc.json (Web Fuzzing Commons auth: two platforms, each with its test key in
  `ngnc-sec-key`) and OUT_DIR/schemathesis.toml (the two platforms as peers for the
  `object_level_authorization` check, and the seeded ids as a dictionary the deliveries
  operations draw from half the time).

Standard library only.
"""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.request
import uuid

DELIVERY_OPERATIONS = [
    "GET /v2/webhook_endpoints/{endpoint_id}/deliveries",
    "GET /v2/webhook_endpoints/{endpoint_id}/deliveries/{delivery_id}",
    "GET /v2/webhook_endpoints/{endpoint_id}/deliveries/{delivery_id}/attempts",
    "POST /v2/webhook_endpoints/{endpoint_id}/deliveries/{delivery_id}/retry",
]


def call(base: str, key: str, method: str, path: str, body: object | None = None) -> dict:
    headers = {"ngnc-sec-key": key}
    data = None
    if method == "POST":
        headers["idempotency-key"] = f"seed-{uuid.uuid4()}"
    if body is not None:
        headers["content-type"] = "application/json"
        data = json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.load(response)
    except urllib.error.HTTPError as err:
        raise SystemExit(f"seed: {method} {path} -> {err.code} {err.read().decode(errors='replace')}")


def toml_str(value: str) -> str:
    return json.dumps(value)  # a JSON string is a valid TOML basic string


def main() -> None:
    base, key_a, key_b, out = sys.argv[1:5]

    # `.invalid` never resolves (RFC 2606): nothing is ever sent anywhere.
    endpoint = call(
        base,
        key_a,
        "POST",
        "/v2/webhook_endpoints",
        {"url": "https://kyb-ci-webhooks.invalid/schemathesis", "description": "schemathesis seed"},
    )["data"]["id"]
    customer = call(
        base,
        key_a,
        "POST",
        "/v2/business_customer",
        {
            "business_name": "Schemathesis Seed Ltd",
            "business_email": "seed@kyb-ci.example.com",
            "phone_number": "+44 20 7946 0000",
            "registered_address": "1 Seed Street, London",
            "registered_country": "GBR",
        },
    )["customer_id"]
    deliveries = [d["id"] for d in call(base, key_a, "GET", f"/v2/webhook_endpoints/{endpoint}/deliveries")["data"]]
    if not deliveries:
        raise SystemExit("seed: the seeded endpoint has no deliveries")

    with open(f"{out}/wfc.json", "w") as f:
        json.dump(
            {
                "schemaVersion": "1.0.0",
                "auth": [
                    {"name": "platform_a", "fixedHeaders": [{"name": "ngnc-sec-key", "value": key_a}]},
                    {"name": "platform_b", "fixedHeaders": [{"name": "ngnc-sec-key", "value": key_b}]},
                ],
            },
            f,
            indent=2,
        )

    lines = [
        "# Written by .ci/schemathesis_setup.py for one run; see .ci/schemathesis.",
        "[auth.wfc]",
        f"path = {toml_str(out + '/wfc.json')}",
        'peers = ["platform_a", "platform_b"]',
        "",
        "[dictionaries.seed_endpoints]",
        f"values = [{toml_str(endpoint)}]",
        "",
        "[dictionaries.seed_deliveries]",
        f"values = [{', '.join(toml_str(d) for d in deliveries)}]",
        "",
        "[[operations]]",
        f"include-name = [{', '.join(toml_str(o) for o in DELIVERY_OPERATIONS)}]",
        '[operations.parameters]',
        '"path.endpoint_id" = { dictionary = "seed_endpoints", probability = 0.5 }',
        '"path.delivery_id" = { dictionary = "seed_deliveries", probability = 0.5 }',
        "",
    ]
    with open(f"{out}/schemathesis.toml", "w") as f:
        f.write("\n".join(lines))

    print(f"seeded: endpoint {endpoint}, customer {customer}, deliveries {' '.join(deliveries)}")


if __name__ == "__main__":
    main()
