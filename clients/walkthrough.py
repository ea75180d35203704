#!/usr/bin/env python3
"""What a platform integrating in a day does, through a client generated from docs/openapi.json.

Usage: walkthrough.py BASE_URL API_KEY   (or KYB_BASE_URL and KYB_API_KEY in the environment)

Needs the package that `openapi-python-client generate --meta none` writes (imported as
`kyb_client`, on PYTHONPATH), httpx and standardwebhooks; .ci/clients sets all of that up. Every
API call goes through the generated client; the only HTTP written here is the webhook receiver,
a local server on 127.0.0.1 at a random port.

Steps (clients/README.md): a webhook endpoint pointing at the receiver; a business customer with
the vendor's five fields plus business details and people; retrieve it; change its phone
number; upload a document; a new link that lasts an hour; the list and the events, filtered;
simulate to `approved`; then wait (30 s at most, KYB_CLIENTS_WEBHOOK_WAIT) for the customer's
webhooks, each verified with the `standardwebhooks` package, and check that a tampered body is
refused. Exit 0 when everything held; 1 (with the reason) otherwise.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import sys
import threading
import time
import traceback
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
from kyb_client import AuthenticatedClient
from kyb_client.api.business_customer import (
    create_business_customer,
    issue_kyb_link,
    list_business_customers,
    retrieve_business_customer,
    simulate_business_customer,
    update_business_customer,
    upload_business_customer_document,
)
from kyb_client.api.events import list_events
from kyb_client.api.webhook_endpoints import create_webhook_endpoint, delete_webhook_endpoint
from kyb_client.models import (
    BusinessCustomerList,
    BusinessCustomerResponse,
    BusinessDetails,
    CreateBusinessCustomerRequest,
    CreateBusinessCustomerRequestRegisteredCountry,
    CreateEndpointRequest,
    DocumentObject,
    DocumentUpload,
    DocumentUploadKind,
    ErrorBody,
    EventList,
    IssueLinkRequest,
    KybLinkResponse,
    ListEventsType,
    PersonInput,
    PersonInputNationality,
    PersonInputRole,
    SimulateStep,
    SimulateStepAction,
    UpdateBusinessCustomerRequest,
    WebhookEndpointResponse,
)
from kyb_client.models import (
    CreateEndpointRequestEnabledEventsType2Item as EventType,
)
from kyb_client.models import (
    ListBusinessCustomersVerificationStatusItem as StatusFilter,
)
from kyb_client.types import File
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

NAME = "walkthrough.py"
WAIT = float(os.environ.get("KYB_CLIENTS_WEBHOOK_WAIT", "30"))

# The smallest PDF the service takes as one: judged by its content, which starts `%PDF-`.
PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)


class Failed(Exception):
    pass


def say(message: str) -> None:
    print(f"{NAME}: {message}", flush=True)


def check(condition: bool, message: str) -> None:
    if not condition:
        raise Failed(message)


def new_key() -> str:
    return f"walkthrough-py-{uuid.uuid4()}"


def expect(response: Any, model: type, what: str) -> Any:
    """The parsed body of a 200 of the expected model, or Failed with what kyb said."""
    parsed = response.parsed
    if response.status_code != 200 or not isinstance(parsed, model):
        detail = response.content.decode(errors="replace")
        if isinstance(parsed, ErrorBody):
            detail = f"{parsed.error.code}: {parsed.error.message} ({parsed.request_id})"
        raise Failed(f"{what}: HTTP {int(response.status_code)}, expected {model.__name__}: {detail}")
    return parsed


def timestamp(value: str) -> dt.datetime:
    """An RFC 3339 time of the API (`…Z`) as an aware datetime."""
    return dt.datetime.fromisoformat(value)


# --- The webhook receiver ------------------------------------------------------------------


class Receiver:
    """Takes deliveries on 127.0.0.1, verifies each with standardwebhooks, keeps them."""

    def __init__(self) -> None:
        self.secret: str | None = None
        self.lock = threading.Lock()
        self.verified: list[dict[str, Any]] = []  # events whose signature held
        self.problems: list[str] = []  # anything a correct delivery would not have caused
        self.tamper_checked = False
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                status = receiver.take(body, {k.lower(): v for k, v in self.headers.items()})
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/kyb/webhooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def take(self, body: bytes, headers: dict[str, str]) -> int:
        with self.lock:
            if self.secret is None:  # a delivery before we know the secret: kyb retries it
                return 503
            try:
                event = Webhook(self.secret).verify(body, headers)
            except WebhookVerificationError as e:
                self.problems.append(f"a delivery failed verification ({e}): {body[:200]!r}")
                return 400
            if headers.get("content-type", "").split(";")[0].strip() != "application/json":
                self.problems.append(f"content-type {headers.get('content-type')!r}, not application/json")
            if event.get("id") != headers.get("webhook-id"):
                self.problems.append(
                    f"webhook-id {headers.get('webhook-id')} is not the event id {event.get('id')}"
                )
            if not self.tamper_checked:
                self.tamper_checked = True
                tampered = body.replace(b'"type":"', b'"type":"x', 1)
                if tampered == body:
                    tampered = body[:-1] + b" }"
                try:
                    Webhook(self.secret).verify(tampered, headers)
                    self.problems.append("a tampered body passed verification")
                except WebhookVerificationError:
                    pass
                try:
                    Webhook("whsec_" + "A" * 43 + "=").verify(body, headers)
                    self.problems.append("another secret verified the delivery")
                except WebhookVerificationError:
                    pass
            self.verified.append(event)
            return 200

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# --- The walkthrough -----------------------------------------------------------------------


def simulate_to_approved(client: AuthenticatedClient, customer_id: str) -> None:
    """Submit, then approve (POST /v2/business_customer/{customer_id}/simulate)."""
    for action, expected in (
        (SimulateStepAction.SUBMIT, "in_review"),
        (SimulateStepAction.APPROVE, "approved"),
    ):
        deadline = time.monotonic() + WAIT
        while True:
            response = simulate_business_customer.sync_detailed(
                customer_id, client=client, body=SimulateStep(action=action), idempotency_key=new_key()
            )
            # A decision waits up to 10 s for the automated checks, then answers 409
            # `checks_running`: ask again (a new key: nothing was stored), for a bounded time.
            parsed = response.parsed
            if not (
                isinstance(parsed, ErrorBody)
                and parsed.error.code == "checks_running"
                and time.monotonic() < deadline
            ):
                break
            say(f"h. simulate {action}: checks still running, asking again")
            time.sleep(0.5)
        customer = expect(response, BusinessCustomerResponse, f"simulate {action}")
        check(customer.customer_id == customer_id, f"simulate {action} answered for {customer.customer_id}")
        status = str(customer.verification_status)
        check(status == expected, f"simulate {action}: verification_status {status}, expected {expected}")
        say(f"h. simulate {action}: {status}")


def run(base_url: str, api_key: str) -> None:
    receiver = Receiver()
    # The vendor's header; AuthenticatedClient's default would be `Authorization: Bearer`.
    client = AuthenticatedClient(
        base_url=base_url,
        token=api_key,
        auth_header_name="ngnc-sec-key",
        prefix="",
        raise_on_unexpected_status=True,
        timeout=httpx.Timeout(30.0),
    )
    endpoint_id = None
    try:
        # a. A webhook endpoint pointing at the receiver, for the customer events.
        endpoint = expect(
            create_webhook_endpoint.sync_detailed(
                client=client,
                idempotency_key=new_key(),
                body=CreateEndpointRequest(
                    url=receiver.url,
                    description="clients/walkthrough.py",
                    enabled_events=list(EventType),
                ),
            ),
            WebhookEndpointResponse,
            "create webhook endpoint",
        ).data
        check(
            isinstance(endpoint.secret, str) and endpoint.secret.startswith("whsec_"),
            "no whsec_ secret in the answer",
        )
        endpoint_id = endpoint.id
        with receiver.lock:
            receiver.secret = endpoint.secret
        say(f"a. webhook endpoint {endpoint.id} -> {receiver.url}")

        # b. The vendor's five fields (an address of this run), plus what the platform already
        # knows: business details and a director who controls the business.
        email = f"ops+{uuid.uuid4().hex[:12]}@acme.example"
        before_create = dt.datetime.now(dt.UTC)
        created = expect(
            create_business_customer.sync_detailed(
                client=client,
                idempotency_key=new_key(),
                body=CreateBusinessCustomerRequest(
                    business_name="Acme Corp Solutions Ltd",
                    business_email=email,
                    phone_number="+1-555-0123",
                    registered_address="123 Business Street, Suite 100, New York, NY 10001",
                    registered_country=CreateBusinessCustomerRequestRegisteredCountry.USA,
                    business_details=BusinessDetails(
                        legal_name="Acme Corp Solutions Ltd",
                        entity_type="llc",
                        registration_number="5551234",
                        date_of_incorporation="2019-03-01",
                        tax_id="12-3456789",
                        business_description="Payments software for small shops",
                    ),
                    people=[
                        PersonInput(
                            full_name="Ada Obi",
                            date_of_birth=dt.date(1980, 4, 12),
                            nationality=PersonInputNationality.USA,
                            role=PersonInputRole.DIRECTOR,
                            is_control_person=True,
                            ownership_percent=60,
                        )
                    ],
                ),
            ),
            KybLinkResponse,
            "create business customer",
        )
        customer_id = created.customer_id
        check(customer_id.startswith("cust_"), f"customer_id {customer_id}")
        check(str(created.verification_status) == "pending", f"new customer is {created.verification_status}")
        say(f"b. customer {customer_id} ({email}) with business details and people, link {created.kyb_link}")

        # c. Retrieve: the details and people given count, so they are no longer due.
        customer = expect(
            retrieve_business_customer.sync_detailed(customer_id, client=client),
            BusinessCustomerResponse,
            "retrieve business customer",
        )
        check(customer.business_email == email, f"retrieved e-mail {customer.business_email}")
        check(customer.phone_number == "+15550123", f"phone stored as {customer.phone_number}")
        check(customer.kyb_link == created.kyb_link, "retrieve shows another link than create")
        check(customer.livemode is False, "a test key's customer is not in test mode")
        due = list(customer.requirements.currently_due)
        still_due = [r for r in due if r.startswith("business_details.") or r == "people.control_person"]
        check(not still_due, f"given, yet still due: {', '.join(still_due)}")
        say(f"c. retrieved: {customer.verification_status}, due: {', '.join(due) or 'nothing'}")

        # d. Change the phone number: answered in E.164, and a business_customer.updated
        # webhook with the earlier value (checked in i).
        updated = expect(
            update_business_customer.sync_detailed(
                customer_id,
                client=client,
                idempotency_key=new_key(),
                body=UpdateBusinessCustomerRequest(phone_number="+1 (555) 0199"),
            ),
            BusinessCustomerResponse,
            "update business customer",
        )
        check(updated.phone_number == "+15550199", f"updated phone answered as {updated.phone_number}")
        say(f"d. phone number changed to {updated.phone_number}")

        # e. A document, as multipart/form-data.
        document = expect(
            upload_business_customer_document.sync_detailed(
                customer_id,
                client=client,
                idempotency_key=new_key(),
                body=DocumentUpload(
                    kind=DocumentUploadKind.CERTIFICATE_OF_INCORPORATION,
                    file=File(
                        payload=io.BytesIO(PDF),
                        file_name="certificate_of_incorporation.pdf",
                        mime_type="application/pdf",
                    ),
                ),
            ),
            DocumentObject,
            "upload document",
        )
        check(document.content_type == "application/pdf", f"document content_type {document.content_type}")
        check(document.customer_id == customer_id, f"document of {document.customer_id}")
        check(document.size_bytes == len(PDF), f"document of {document.size_bytes} bytes, sent {len(PDF)}")
        check(
            "documents.certificate_of_incorporation" not in document.currently_due,
            "the certificate of incorporation is still due after its upload",
        )
        say(f"e. document {document.id}: {document.kind}, {document.content_type}, {document.size_bytes} B")

        # f. A new link that lasts an hour.
        link = expect(
            issue_kyb_link.sync_detailed(
                customer_id, client=client, idempotency_key=new_key(), body=IssueLinkRequest(expires_in=3600)
            ),
            KybLinkResponse,
            "issue kyb link",
        )
        check(
            link.customer_id == customer_id and link.kyb_link != created.kyb_link, "the new link is not new"
        )
        off = (timestamp(link.link_expires_at) - dt.datetime.now(dt.UTC)).total_seconds() - 3600
        check(abs(off) <= 120, f"link_expires_at {link.link_expires_at} is {off:+.0f} s off now + 1 h")
        say(f"f. new link {link.kyb_link}, expires {link.link_expires_at}")

        # g. The list, filtered: two statuses (a repeated parameter) and a creation time; then
        # the customer's business_customer.updated events.
        since = before_create - dt.timedelta(seconds=1)
        statuses = [StatusFilter.PENDING, StatusFilter.IN_REVIEW]
        page = expect(
            list_business_customers.sync_detailed(
                client=client, limit=100, verification_status=statuses, createdgte=since
            ),
            BusinessCustomerList,
            "list business customers (filtered)",
        )
        check(
            any(c.customer_id == customer_id for c in page.data), f"{customer_id} is not in the filtered list"
        )
        for c in page.data:
            check(
                str(c.verification_status) in ("pending", "in_review"),
                f"listed {c.customer_id}: {c.verification_status}",
            )
            check(
                timestamp(c.created_at) >= since.replace(microsecond=0),
                f"listed {c.customer_id}: created {c.created_at}",
            )
        say(f"g. listed with verification_status pending, in_review and created[gte]: {len(page.data)}")

        events = expect(
            list_events.sync_detailed(
                client=client, customer_id=customer_id, type_=ListEventsType.BUSINESS_CUSTOMER_UPDATED
            ),
            EventList,
            "list events (filtered)",
        )
        check(len(events.data) >= 1, "no business_customer.updated event for the customer")
        for event in events.data:
            obj = event.data.additional_properties.get("object") or {}
            check(
                event.type_ == "business_customer.updated" and obj.get("customer_id") == customer_id,
                f"listed event {event.id}: {event.type_} of {obj.get('customer_id')}",
            )
        say(f"g. events of the customer, business_customer.updated: {len(events.data)}")

        # h. Simulate to approved.
        simulate_to_approved(client, customer_id)

        # i. The webhooks, each verified.
        wanted = {
            "business_customer.created",
            "business_customer.updated:phone_number",
            "business_customer.kyb_link.created",
            "business_customer.verification_status.updated:approved",
        }

        def seen() -> set[str]:
            names = set()
            with receiver.lock:
                for event in receiver.verified:
                    data = event.get("data") or {}
                    obj = data.get("object") or {}
                    if obj.get("customer_id") != customer_id:
                        continue
                    names.add(event["type"])
                    if event["type"] == "business_customer.verification_status.updated":
                        names.add(f"{event['type']}:{obj.get('verification_status')}")
                    previous = data.get("previous_attributes") or {}
                    if (
                        event["type"] == "business_customer.updated"
                        and previous.get("phone_number") == "+15550123"
                        and obj.get("phone_number") == "+15550199"
                    ):
                        names.add(f"{event['type']}:phone_number")
            return names

        deadline = time.monotonic() + WAIT
        while not wanted <= seen() and time.monotonic() < deadline and not receiver.problems:
            time.sleep(0.1)
        check(not receiver.problems, "; ".join(receiver.problems))
        missing = wanted - seen()
        check(
            not missing,
            f"after {WAIT:.0f} s, no verified webhook for: {', '.join(sorted(missing))} "
            f"(received: {', '.join(sorted(seen())) or 'none'})",
        )
        check(receiver.tamper_checked, "the tampered-body check did not run")
        with receiver.lock:
            count = len(receiver.verified)
        say(f"i. {count} webhook(s) verified: {', '.join(sorted(seen()))}")
        say("i. a tampered body and another secret were refused")
    finally:
        if endpoint_id is not None:
            response = delete_webhook_endpoint.sync_detailed(
                endpoint_id, client=client, idempotency_key=new_key()
            )
            if response.status_code != 200:
                say(f"deleting {endpoint_id}: HTTP {int(response.status_code)}")
        receiver.close()


def main() -> int:
    args = sys.argv[1:]
    base_url = args[0] if len(args) > 0 else os.environ.get("KYB_BASE_URL", "")
    api_key = args[1] if len(args) > 1 else os.environ.get("KYB_API_KEY", "")
    if not base_url or not api_key:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        run(base_url.rstrip("/"), api_key)
    except Failed as e:
        say(f"FAILED: {e}")
        return 1
    except Exception:  # a crash in the generated client is a finding too
        traceback.print_exc()
        say("FAILED with an exception")
        return 1
    say("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
