// A peer's day through a strict TypeScript client: types generated from openapi/openapi.json
// by openapi-typescript into api.d.ts (never committed, never edited), calls made with
// openapi-fetch, by path. No hand-written API types and no casts: every type below is taken
// from the generated `paths` and `components`, and answers are narrowed by status and shape.
//
// A peer signs in, caches the reference data (ETag, then 304), records a handout, syncs an
// offline queue (created, duplicate, held, invalid), syncs it again (nothing new), reports a
// reversal with a replacement kit, goes on past the access token's lifetime (the client's
// middleware refreshes it on `token_expired` and retries), and a commissioner reads the
// statistics. Every answer is checked.
//
// Usage: node out/scenario.js BASE_URL FIXTURE.json
// FIXTURE.json is what conformance/fixture.py wrote; the server should give access tokens a
// short life (ACCESS_TOKEN_TTL_SECONDS=30), since the scenario waits for one to expire.
// conformance/run.sh generates api.d.ts, compiles this file and runs it. By hand, here:
//   npm ci && npx openapi-typescript ../../openapi/openapi.json -o api.d.ts && npx tsc
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";

import createClient, { type Client, type Middleware } from "openapi-fetch";

import type { components, paths } from "./api.js";

type Schemas = components["schemas"];
type TokenPair = Schemas["TokenPair"];
type NewKitIssue = Schemas["NewKitIssue"];
type ItemStatus = Schemas["ItemResult"]["status"];

let checks = 0;

function fail(what: string): never {
  console.error(`typescript client: FAILED: ${what}`);
  process.exit(1);
}

function check(condition: boolean, what: string): asserts condition {
  if (!condition) {
    fail(what);
  }
  checks += 1;
  console.log(`   ok ${checks}: ${what}`);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function same(a: readonly unknown[], b: readonly unknown[]): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

// The fixture's JSON, read without trusting its shape.
function field(value: unknown, path: string): string {
  let at = value;
  for (const key of path.split(".")) {
    if (typeof at !== "object" || at === null) {
      fail(`the fixture has no ${path}`);
    }
    const entries: [string, unknown][] = Object.entries(at);
    at = entries.find(([name]) => name === key)?.[1];
  }
  if (typeof at !== "string") {
    fail(`the fixture's ${path} is not a string`);
  }
  return at;
}

const usage = "usage: node scenario.js BASE_URL FIXTURE.json";
const base = process.argv[2] ?? fail(usage);
const fixturePath = process.argv[3] ?? fail(usage);
const fixture: unknown = JSON.parse(readFileSync(fixturePath, "utf8"));
const password = field(fixture, "password");
const area = field(fixture, "area_id");
const product = field(fixture, "product_id");

// Sign-in and refresh need no token.
const anonymous = createClient<paths>({ baseUrl: base });

async function signIn(email: string): Promise<TokenPair> {
  const { data, response } = await anonymous.POST("/api/v1/auth/login", { body: { email, password } });
  check(response.status === 200 && data !== undefined, `${email} signs in (${response.status})`);
  check(data.token_type === "Bearer" && data.expires_in > 0, `a bearer token that lasts ${data.expires_in} s`);
  return data;
}

function isTokenExpired(body: unknown): boolean {
  return typeof body === "object" && body !== null && "code" in body && body.code === "token_expired";
}

interface Session {
  client: Client<paths>;
  refreshes: () => number;
}

// A client that signs its requests with the session's access token and, when the server
// answers 401 `token_expired`, refreshes the pair once and sends the request again.
function session(first: TokenPair): Session {
  let tokens = first;
  let refreshes = 0;
  // Each request as it was before it was sent, for the retry (a body can be read only once).
  const sent = new Map<string, Request>();
  const bearer: Middleware = {
    onRequest({ request, id }) {
      request.headers.set("Authorization", `Bearer ${tokens.access_token}`);
      sent.set(id, request.clone());
      return request;
    },
    async onResponse({ response, id }) {
      const original = sent.get(id);
      sent.delete(id);
      if (response.status !== 401 || original === undefined) {
        return undefined;
      }
      const problem: unknown = await response.clone().json();
      if (!isTokenExpired(problem)) {
        return undefined;
      }
      const renewed = await anonymous.POST("/api/v1/auth/refresh", {
        body: { refresh_token: tokens.refresh_token },
      });
      if (renewed.data === undefined) {
        fail(`refresh answered ${renewed.response.status}: ${JSON.stringify(renewed.error)}`);
      }
      tokens = renewed.data;
      refreshes += 1;
      original.headers.set("Authorization", `Bearer ${tokens.access_token}`);
      return fetch(original);
    },
  };
  const client = createClient<paths>({ baseUrl: base });
  client.use(bearer);
  return { client, refreshes: () => refreshes };
}

function now(): string {
  return new Date().toISOString();
}

function handout(
  quantity: number,
  fields: Omit<NewKitIssue, "id" | "issued_at" | "area_id" | "product_id" | "quantity">,
): NewKitIssue {
  return { id: randomUUID(), issued_at: now(), area_id: area, product_id: product, quantity, ...fields };
}

const today = now().slice(0, 10);
const month = today.slice(0, 7);

interface Figures {
  rowKits: number;
  totalKits: number;
  summaryKits: number;
}

// The commissioner's figures for the fixture's area today: the row of this month and area in
// /stats/kits, its totals, and /stats/summary.
async function commissionerFigures(commissioner: Client<paths>, when: string): Promise<Figures> {
  const kits = await commissioner.GET("/api/v1/stats/kits", {
    params: { query: { group_by: "month,area", from: today, to: today } },
  });
  check(kits.response.status === 200 && kits.data !== undefined, `${when}: /stats/kits answers 200`);
  const table = kits.data;
  check(table.disclosure_threshold !== null, `${when}: a commissioner's table says its disclosure threshold`);
  check(same(table.group_by, ["month", "area"]), `${when}: grouped by ${table.group_by.join(",")}`);
  const row = table.rows.find((r) => r.area_id === area && r.period === month);
  check(row !== undefined && row.kits !== null, `${when}: a row for the area this month with its kits shown`);
  check(table.totals.kits !== null, `${when}: total kits shown`);
  const shown = table.rows.map((r) => r.kits ?? 0).reduce((a, b) => a + b, 0);
  check(
    table.totals.suppressed.length > 0 || shown === table.totals.kits,
    `${when}: rows add up to the total (${shown} of ${table.totals.kits})`,
  );

  const summary = await commissioner.GET("/api/v1/stats/summary", {
    params: { query: { from: today, to: today, area_id: area } },
  });
  check(summary.response.status === 200 && summary.data !== undefined, `${when}: /stats/summary answers 200`);
  const figures = summary.data;
  check(typeof figures.kits === "number", `${when}: summary kits shown (${figures.kits})`);
  check(
    (figures.reversal_reports === null) === figures.suppressed.includes("reversal_reports"),
    `${when}: summary reversal reports hidden exactly when listed as suppressed`,
  );
  return { rowKits: row.kits, totalKits: table.totals.kits, summaryKits: figures.kits };
}

// The commissioner's figures before the peer's day.
const commissioner = session(await signIn(field(fixture, "commissioner.email")));
const before = await commissionerFigures(commissioner.client, "before");

// The peer signs in; the token's life starts now.
const signedInAt = Date.now();
const peerTokens = await signIn(field(fixture, "peer.email"));
const peer = session(peerTokens);
const api = peer.client;

// Reference data, then the same again with its ETag: 304, nothing to download.
const reference = await api.GET("/api/v1/sync/reference");
check(reference.response.status === 200 && reference.data !== undefined, "reference data answers 200");
check(reference.data.products.some((p) => p.id === product), "the reference data lists the fixture's product");
check(reference.data.areas.some((a) => a.id === area), "the reference data lists the fixture's area");
const etag = reference.response.headers.get("ETag");
check(etag !== null && etag !== "", `reference data carries an ETag (${etag})`);
const unchanged = await api.GET("/api/v1/sync/reference", { params: { header: { "If-None-Match": etag } } });
check(unchanged.response.status === 304, `the same reference data with If-None-Match answers 304 (${unchanged.response.status})`);

// A handout sent at once: a family member with consent, first supply.
const first = handout(2, { setting: "outreach", recipient_type: "family_friend", consent_recorded: true, supply: "first" });
const created = await api.POST("/api/v1/kit-issues", { body: first });
check(created.response.status === 201 && created.data !== undefined, `a new handout answers 201 (${created.response.status})`);
check(created.data.id === first.id && created.data.quantity === 2, "the handout as sent");
check(created.data.state === "recorded" && same(created.data.held_reasons, []), `recorded, not held (${created.data.state})`);

// An offline queue: a new handout, the one already sent, a family member's kit with no consent
// recorded (it happened: held for a coordinator) and one with no kits at all (invalid).
const unconsented = handout(1, { setting: "outreach", recipient_type: "family_friend" });
const queue = [
  handout(1, { setting: "hub_drop_in", recipient_type: "person_at_risk", supply: "first" }),
  first,
  unconsented,
  handout(0, { setting: "outreach" }),
];
const ids = queue.map((k) => k.id);

async function syncQueue(): Promise<ItemStatus[]> {
  const answer = await api.POST("/api/v1/sync", { body: { kit_issues: queue } });
  if (answer.data === undefined) {
    fail(`sync answered ${answer.response.status}: ${JSON.stringify(answer.error)}`);
  }
  const results = answer.data.kit_issues;
  if (!same(results.map((r) => r.id), ids)) {
    fail(`sync results do not name the records sent: ${JSON.stringify(results)}`);
  }
  const held = results[2];
  if (held === undefined || held.status !== "held" && held.status !== "duplicate") {
    fail(`the third record is neither held nor a duplicate: ${JSON.stringify(held)}`);
  }
  if (held.status === "held" && !same(held.held_reasons.map((h) => h.code), ["consent_not_recorded"])) {
    fail(`the held record does not say why: ${JSON.stringify(held)}`);
  }
  const invalid = results[3];
  if (invalid === undefined || invalid.status !== "invalid" || !invalid.errors.some((e) => e.field === "quantity")) {
    fail(`the record with no kits is not refused for its quantity: ${JSON.stringify(invalid)}`);
  }
  return results.map((r) => r.status);
}

const firstSync = await syncQueue();
check(same(firstSync, ["created", "duplicate", "held", "invalid"]), `sync: ${firstSync.join(", ")}`);
const held = await api.GET("/api/v1/kit-issues/{id}", { params: { path: { id: unconsented.id } } });
check(held.response.status === 200 && held.data !== undefined, "the held record can be read back");
check(
  held.data.state === "held" && same(held.data.held_reasons.map((h) => h.code), ["consent_not_recorded"]),
  `stored as held because no consent was recorded (${held.data.state})`,
);

const replay = ["duplicate", "duplicate", "duplicate", "invalid"];
const secondSync = await syncQueue();
check(same(secondSync, replay), `the same queue again creates nothing: ${secondSync.join(", ")}`);

// A reversal with the fixture's kit, and a replacement kit handed out on the spot.
const replacement = handout(1, { setting: "outreach", recipient_type: "person_at_risk", supply: "repeat" });
const reversal = await api.POST("/api/v1/reversals", {
  body: {
    id: randomUUID(),
    occurred_at: now(),
    area_id: area,
    place: "hostel",
    administered_by: "reporting_peer",
    product_id: product,
    doses: 2,
    outcome: "survived",
    emergency_services_called: "yes",
    kit_issue_id: field(fixture, "kit_issue_id"),
    replacement,
  },
});
check(reversal.response.status === 201 && reversal.data !== undefined, `a new reversal answers 201 (${reversal.response.status})`);
check(reversal.data.outcome === "survived" && reversal.data.doses === 2, "the reversal as sent");
check(reversal.data.replacement_kit_issue_id === replacement.id, "the replacement kit is recorded with it");

// The access token runs out while the phone is offline. Past its lifetime the phone sends its
// queue again (harmless, as checked above) until the server says `token_expired`: the
// middleware refreshes the pair and sends the same request again, body and all.
check(peer.refreshes() === 0, "no refresh while the access token is fresh");
const expiry = signedInAt + peerTokens.expires_in * 1000;
await sleep(Math.max(0, expiry - Date.now()));
let attempts = 0;
while (peer.refreshes() === 0 && attempts < 60) {
  attempts += 1;
  const statuses = await syncQueue();
  if (!same(statuses, replay)) {
    fail(`the queue sent again after the token's lifetime created something: ${statuses.join(", ")}`);
  }
  if (peer.refreshes() === 0) {
    await sleep(1000);
  }
}
const waited = Math.round((Date.now() - signedInAt) / 1000);
check(peer.refreshes() === 1, `the expired token was refreshed once, ${waited} s after sign-in, and the sync sent again answered 200`);
const me = await api.GET("/api/v1/me");
check(me.response.status === 200 && me.data !== undefined, "the refreshed token works");
check(me.data.id === field(fixture, "peer.id") && peer.refreshes() === 1, "as the same peer, with no further refresh");

// The commissioner sees the peer's day: the handout, the queue's new one and the
// replacement (2 + 1 + 1 kits); the held record counts for nothing.
const after = await commissionerFigures(commissioner.client, "after");
check(after.rowKits === before.rowKits + 4, `the area's kits this month: ${before.rowKits} + 4 = ${after.rowKits}`);
check(after.totalKits === before.totalKits + 4, `total kits: ${before.totalKits} + 4 = ${after.totalKits}`);
check(after.summaryKits === before.summaryKits + 4, `summary kits: ${before.summaryKits} + 4 = ${after.summaryKits}`);

console.log(`typescript client: ${checks} checks passed`);
