// What a platform integrating in a day does, through TypeScript types generated from
// docs/openapi.json (openapi-typescript) and the openapi-fetch client.
//
//   node walkthrough.js BASE_URL API_KEY   (or KYB_BASE_URL and KYB_API_KEY in the environment)
//
// .ci/clients compiles it with tsc (strict) next to the generated schema.d.ts: a call that does
// not fit the document is a compile error. Every API call goes through the typed client; the
// only HTTP written here is the webhook receiver, a local server on 127.0.0.1 at a random port.
//
// Steps (clients/README.md): a webhook endpoint pointing at the receiver; a business customer
// with the vendor's five fields plus business details and people; retrieve it; change its phone
// number; upload a document; a new link that lasts an hour; the list and the events, filtered;
// simulate to `approved`; then wait (30 s at most, KYB_CLIENTS_WEBHOOK_WAIT) for the customer's
// webhooks, each verified with the `standardwebhooks` package, and check that a tampered body is
// refused. Exit 0 when everything held; 1 (with the reason) otherwise.

import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import createClient, { type Client } from "openapi-fetch";
import { Webhook, WebhookVerificationError } from "standardwebhooks";
import type { components, paths } from "./schema.js";

const NAME = "walkthrough.ts";
const WAIT_MS = 1000 * Number(process.env.KYB_CLIENTS_WEBHOOK_WAIT ?? "30");

// The smallest PDF the service takes as one: judged by its content, which starts `%PDF-`.
const PDF =
  "%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n" +
  "2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n";

type Customer = components["schemas"]["BusinessCustomer"];
// The document types `Event.data` as a bare `object`, which openapi-typescript turns into
// Record<string, never>: a webhook's customer cannot be read through the generated types, so it
// is described here.
type EventData = { object?: Partial<Customer>; previous_attributes?: Record<string, unknown> | null };
type Event = Omit<components["schemas"]["Event"], "data"> & { data: EventData };

class Failed extends Error {}

function say(message: string): void {
  console.log(`${NAME}: ${message}`);
}

function check(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Failed(message);
}

function fail(message: string): never {
  throw new Failed(message);
}

function newKey(): string {
  return `walkthrough-ts-${randomUUID()}`;
}

// The data of a 2xx, or Failed with what kyb said.
function ok<T>(what: string, result: { data?: T; error?: unknown; response: Response }): T {
  if (!result.response.ok || result.data === undefined) {
    const error = result.error as components["schemas"]["ErrorBody"] | undefined;
    const detail = error?.error ? `${error.error.code}: ${error.error.message} (${error.request_id})` : JSON.stringify(result.error);
    throw new Failed(`${what}: HTTP ${result.response.status}: ${detail}`);
  }
  return result.data;
}

// --- The webhook receiver ------------------------------------------------------------------

class Receiver {
  secret: string | null = null;
  readonly verified: Event[] = [];
  readonly problems: string[] = [];
  tamperChecked = false;
  private server = createServer((req, res) => this.handle(req, res));
  url = "";

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/kyb/webhooks`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      res.writeHead(this.take(Buffer.concat(chunks).toString("utf8"), req.headers)).end();
    });
  }

  private take(body: string, raw: IncomingMessage["headers"]): number {
    if (this.secret === null) return 503; // before we know the secret: kyb retries it
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(raw)) {
      if (typeof value === "string") headers[name] = value;
    }
    let event: Event;
    try {
      event = new Webhook(this.secret).verify(body, headers) as Event;
    } catch (e) {
      this.problems.push(`a delivery failed verification (${String(e)}): ${body.slice(0, 200)}`);
      return 400;
    }
    if ((headers["content-type"] ?? "").split(";")[0].trim() !== "application/json") {
      this.problems.push(`content-type ${headers["content-type"]}, not application/json`);
    }
    if (event.id !== headers["webhook-id"]) {
      this.problems.push(`webhook-id ${headers["webhook-id"]} is not the event id ${event.id}`);
    }
    if (!this.tamperChecked) {
      this.tamperChecked = true;
      let tampered = body.replace('"type":"', '"type":"x');
      if (tampered === body) tampered = `${body.slice(0, -1)} }`;
      if (this.verifies(this.secret, tampered, headers)) this.problems.push("a tampered body passed verification");
      if (this.verifies(`whsec_${"A".repeat(43)}=`, body, headers)) this.problems.push("another secret verified the delivery");
    }
    this.verified.push(event);
    return 200;
  }

  private verifies(secret: string, body: string, headers: Record<string, string>): boolean {
    try {
      new Webhook(secret).verify(body, headers);
      return true;
    } catch (e) {
      if (!(e instanceof WebhookVerificationError)) throw e;
      return false;
    }
  }
}

// --- The walkthrough -----------------------------------------------------------------------

// Submit, then approve (POST /v2/business_customer/{customer_id}/simulate).
async function simulateToApproved(api: Client<paths>, customerId: string): Promise<void> {
  const steps = [
    ["submit", "in_review"],
    ["approve", "approved"],
  ] as const;
  for (const [action, expected] of steps) {
    const deadline = Date.now() + WAIT_MS;
    const send = () =>
      api.POST("/v2/business_customer/{customer_id}/simulate", {
        params: { path: { customer_id: customerId }, header: { "idempotency-key": newKey() } },
        body: { action },
      });
    let result = await send();
    // A decision waits up to 10 s for the automated checks, then answers 409 `checks_running`:
    // ask again (a new key: nothing was stored), for a bounded time.
    while (result.error?.error?.code === "checks_running" && Date.now() < deadline) {
      say(`h. simulate ${action}: checks still running, asking again`);
      await new Promise((resolve) => setTimeout(resolve, 500));
      result = await send();
    }
    const customer = ok(`simulate ${action}`, result);
    if (customer.customer_id !== customerId) fail(`simulate ${action} answered for ${customer.customer_id}`);
    check(customer.verification_status === expected,
      `simulate ${action}: verification_status ${customer.verification_status}, expected ${expected}`);
    say(`h. simulate ${action}: ${customer.verification_status}`);
  }
}

async function run(baseUrl: string, apiKey: string): Promise<void> {
  const receiver = new Receiver();
  await receiver.start();
  // The bearer scheme (walkthrough.py uses the vendor's ngnc-sec-key header).
  const api = createClient<paths>({ baseUrl, headers: { Authorization: `Bearer ${apiKey}` } });
  let endpointId: string | null = null;
  try {
    // a. A webhook endpoint pointing at the receiver, for the customer events.
    const endpoint = ok(
      "create webhook endpoint",
      await api.POST("/v2/webhook_endpoints", {
        params: { header: { "idempotency-key": newKey() } },
        body: {
          url: receiver.url,
          description: "clients/walkthrough.ts",
          enabled_events: [
            "business_customer.created",
            "business_customer.updated",
            "business_customer.kyb_link.created",
            "business_customer.kyb_link.opened",
            "business_customer.submitted",
            "business_customer.verification_status.updated",
          ],
        },
      }),
    ).data;
    check(typeof endpoint.secret === "string" && endpoint.secret.startsWith("whsec_"), "no whsec_ secret in the answer");
    endpointId = endpoint.id;
    receiver.secret = endpoint.secret;
    say(`a. webhook endpoint ${endpoint.id} -> ${receiver.url}`);

    // b. The vendor's five fields (an address of this run), plus what the platform already knows:
    // business details and a director who controls the business.
    const email = `ops+${randomUUID().replaceAll("-", "").slice(0, 12)}@acme.example`;
    const beforeCreate = Date.now();
    const created = ok(
      "create business customer",
      await api.POST("/v2/business_customer", {
        params: { header: { "idempotency-key": newKey() } },
        body: {
          business_name: "Acme Corp Solutions Ltd",
          business_email: email,
          phone_number: "+1-555-0123",
          registered_address: "123 Business Street, Suite 100, New York, NY 10001",
          registered_country: "USA",
          business_details: {
            legal_name: "Acme Corp Solutions Ltd",
            entity_type: "llc",
            registration_number: "5551234",
            date_of_incorporation: "2019-03-01",
            tax_id: "12-3456789",
            business_description: "Payments software for small shops",
          },
          people: [
            {
              full_name: "Ada Obi",
              date_of_birth: "1980-04-12",
              nationality: "USA",
              role: "director",
              is_control_person: true,
              ownership_percent: 60,
            },
          ],
        },
      }),
    );
    const customerId = created.customer_id;
    check(customerId.startsWith("cust_"), `customer_id ${customerId}`);
    check(created.verification_status === "pending", `new customer is ${created.verification_status}`);
    say(`b. customer ${customerId} (${email}) with business details and people, link ${created.kyb_link}`);

    // c. Retrieve: the details and people given count, so they are no longer due.
    const customer = ok(
      "retrieve business customer",
      await api.GET("/v2/business_customer/{customer_id}", { params: { path: { customer_id: customerId } } }),
    );
    check(customer.business_email === email, `retrieved e-mail ${customer.business_email}`);
    check(customer.phone_number === "+15550123", `phone stored as ${customer.phone_number}`);
    check(customer.kyb_link === created.kyb_link, "retrieve shows another link than create");
    check(customer.livemode === false, "a test key's customer is not in test mode");
    const due = customer.requirements.currently_due;
    const stillDue = due.filter((r) => r.startsWith("business_details.") || r === "people.control_person");
    check(stillDue.length === 0, `given, yet still due: ${stillDue.join(", ")}`);
    say(`c. retrieved: ${customer.verification_status}, due: ${due.join(", ") || "nothing"}`);

    // d. Change the phone number: answered in E.164, and a business_customer.updated webhook with
    // the earlier value (checked in i).
    const updated = ok(
      "update business customer",
      await api.POST("/v2/business_customer/{customer_id}", {
        params: { path: { customer_id: customerId }, header: { "idempotency-key": newKey() } },
        body: { phone_number: "+1 (555) 0199" },
      }),
    );
    check(updated.phone_number === "+15550199", `updated phone answered as ${updated.phone_number}`);
    say(`d. phone number changed to ${updated.phone_number}`);

    // e. A document, as multipart/form-data. openapi-typescript types the `format: binary` part as
    // a string and openapi-fetch sends bodies as JSON unless told otherwise, so the body is the
    // typed object and openapi-fetch's own `bodySerializer` turns it into FormData.
    const document = ok(
      "upload document",
      await api.POST("/v2/business_customer/{customer_id}/documents", {
        params: { path: { customer_id: customerId }, header: { "idempotency-key": newKey() } },
        body: { kind: "certificate_of_incorporation", file: PDF },
        bodySerializer(body) {
          const form = new FormData();
          form.append("kind", body.kind);
          form.append("file", new Blob([body.file], { type: "application/pdf" }), "certificate_of_incorporation.pdf");
          return form;
        },
      }),
    );
    check(document.content_type === "application/pdf", `document content_type ${document.content_type}`);
    check(document.customer_id === customerId, `document of ${document.customer_id}`);
    check(document.size_bytes === PDF.length, `document of ${document.size_bytes} bytes, sent ${PDF.length}`);
    check(!document.currently_due.includes("documents.certificate_of_incorporation"),
      "the certificate of incorporation is still due after its upload");
    say(`e. document ${document.id}: ${document.kind}, ${document.content_type}, ${document.size_bytes} B`);

    // f. A new link that lasts an hour.
    const link = ok(
      "issue kyb link",
      await api.POST("/v2/business_customer/{customer_id}/kyb_link", {
        params: { path: { customer_id: customerId }, header: { "idempotency-key": newKey() } },
        body: { expires_in: 3600 },
      }),
    );
    check(link.customer_id === customerId && link.kyb_link !== created.kyb_link, "the new link is not new");
    const off = (Date.parse(link.link_expires_at) - Date.now()) / 1000 - 3600;
    check(Math.abs(off) <= 120, `link_expires_at ${link.link_expires_at} is ${off.toFixed(0)} s off now + 1 h`);
    say(`f. new link ${link.kyb_link}, expires ${link.link_expires_at}`);

    // g. The list, filtered: two statuses (a repeated parameter) and a creation time; then the
    // customer's business_customer.updated events.
    const since = beforeCreate - 1000;
    const page = ok(
      "list business customers (filtered)",
      await api.GET("/v2/business_customer", {
        params: {
          query: { limit: 100, verification_status: ["pending", "in_review"], "created[gte]": new Date(since).toISOString() },
        },
      }),
    );
    check(page.data.some((c) => c.customer_id === customerId), `${customerId} is not in the filtered list`);
    for (const c of page.data) {
      check(c.verification_status === "pending" || c.verification_status === "in_review",
        `listed ${c.customer_id}: ${c.verification_status}`);
      check(Date.parse(c.created_at) >= Math.floor(since / 1000) * 1000, `listed ${c.customer_id}: created ${c.created_at}`);
    }
    say(`g. listed with verification_status pending, in_review and created[gte]: ${page.data.length}`);

    const events = ok(
      "list events (filtered)",
      await api.GET("/v2/events", { params: { query: { customer_id: customerId, type: "business_customer.updated" } } }),
    );
    check(events.data.length >= 1, "no business_customer.updated event for the customer");
    for (const event of events.data) {
      // `data` is Record<string, never> in the generated types (see EventData).
      const object = (event.data as EventData).object;
      check(event.type === "business_customer.updated" && object?.customer_id === customerId,
        `listed event ${event.id}: ${event.type} of ${object?.customer_id}`);
    }
    say(`g. events of the customer, business_customer.updated: ${events.data.length}`);

    // h. Simulate to approved.
    await simulateToApproved(api, customerId);

    // i. The webhooks, each verified.
    const wanted = new Set([
      "business_customer.created",
      "business_customer.updated:phone_number",
      "business_customer.kyb_link.created",
      "business_customer.verification_status.updated:approved",
    ]);
    const seen = (): Set<string> => {
      const names = new Set<string>();
      for (const event of receiver.verified) {
        const object = event.data?.object;
        if (object?.customer_id !== customerId) continue;
        names.add(event.type);
        if (event.type === "business_customer.verification_status.updated") {
          names.add(`${event.type}:${object.verification_status}`);
        }
        if (
          event.type === "business_customer.updated" &&
          event.data.previous_attributes?.phone_number === "+15550123" &&
          object.phone_number === "+15550199"
        ) {
          names.add(`${event.type}:phone_number`);
        }
      }
      return names;
    };
    const deadline = Date.now() + WAIT_MS;
    const missing = (): string[] => [...wanted].filter((w) => !seen().has(w));
    while (missing().length > 0 && Date.now() < deadline && receiver.problems.length === 0) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    check(receiver.problems.length === 0, receiver.problems.join("; "));
    check(missing().length === 0, `after ${WAIT_MS / 1000} s, no verified webhook for: ${missing().join(", ")} ` +
      `(received: ${[...seen()].sort().join(", ") || "none"})`);
    check(receiver.tamperChecked, "the tampered-body check did not run");
    say(`i. ${receiver.verified.length} webhook(s) verified: ${[...seen()].sort().join(", ")}`);
    say("i. a tampered body and another secret were refused");
  } finally {
    if (endpointId !== null) {
      const { response } = await api.DELETE("/v2/webhook_endpoints/{endpoint_id}", {
        params: { path: { endpoint_id: endpointId }, header: { "idempotency-key": newKey() } },
      });
      if (!response.ok) say(`deleting ${endpointId}: HTTP ${response.status}`);
    }
    await receiver.close();
  }
}

async function main(): Promise<number> {
  const baseUrl = process.argv[2] ?? process.env.KYB_BASE_URL ?? "";
  const apiKey = process.argv[3] ?? process.env.KYB_API_KEY ?? "";
  if (!baseUrl || !apiKey) {
    console.error("usage: node walkthrough.js BASE_URL API_KEY");
    return 2;
  }
  try {
    await run(baseUrl.replace(/\/+$/, ""), apiKey);
  } catch (e) {
    if (e instanceof Failed) {
      say(`FAILED: ${e.message}`);
    } else {
      console.error(e);
      say("FAILED with an exception");
    }
    return 1;
  }
  say("ok");
  return 0;
}

process.exitCode = await main();
