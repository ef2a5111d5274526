// The agent and supervisor app in Debian's chromium, driven by
// playwright-core, against a real router and web edge (started by
// tests/integration/web_test.cpp, which passes their address and tokens
// the test identity platform signed).
//
//   node app_test.mjs --edge URL --tokens FILE --chromium PATH --out DIR
//
// Each step prints a line; the first failed expectation exits non-zero
// naming it. Screenshots at desktop and phone sizes go to --out.

import { createRequire } from "node:module";
import { mkdirSync, readFileSync, readdirSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import assert from "node:assert/strict";

const require = createRequire(new URL("../../web/package.json", import.meta.url));
const { chromium } = require("playwright-core");

function arg(name) {
  const at = process.argv.indexOf(`--${name}`);
  if (at < 0 || at + 1 >= process.argv.length) throw new Error(`--${name} is required`);
  return process.argv[at + 1];
}
const edge = arg("edge");
const tokens = JSON.parse(readFileSync(arg("tokens"), "utf8"));
const out = arg("out");
mkdirSync(out, { recursive: true });
for (const f of readdirSync(out))
  if (f.startsWith("failure-")) unlinkSync(join(out, f));

const desktop = { width: 1280, height: 800 };
const phone = { width: 390, height: 844 };
const timeout = 15_000;

function step(text) {
  console.log(`step: ${text}`);
}

/// The edge's API, as a gateway or a user calls it (outside the browser).
async function api(token, service, method, body) {
  const r = await fetch(`${edge}/api/v1/${service}/${method}`, {
    method: "POST",
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: r.status, body: await r.json() };
}

async function ok(token, service, method, body) {
  const r = await api(token, service, method, body);
  assert.equal(r.status, 200, `${service}.${method}: ${JSON.stringify(r.body)}`);
  return r.body;
}

const browser = await chromium.launch({
  executablePath: arg("chromium"),
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"],
});

/// A browser context signed in as `token`'s user: the token is in the
/// app's session cache, as after a sign-in; nothing leaves 127.0.0.1
/// (teams-js' CDN lookup and MSAL's endpoints are refused).
async function signedIn(token, viewport = desktop) {
  const context = await browser.newContext({ viewport });
  await context.addInitScript((t) => sessionStorage.setItem("switchboard.token", t), token);
  await context.route("**/*", (route) => {
    const url = new URL(route.request().url());
    return url.hostname === "127.0.0.1" ? route.continue() : route.abort();
  });
  const page = await context.newPage();
  page.setDefaultTimeout(timeout);
  page.on("pageerror", (e) => console.log(`page error: ${e.message}`));
  return page;
}

let failed = false;
try {
  // --- The agent: ready, an offer with its context, accept, wrap up.
  step("agent Ann opens the app (it finds her agent by her Teams user) and is not ready");
  const agent = await signedIn(tokens.ann);
  await agent.goto(`${edge}/agent?tenant=contoso`);
  await agent.getByTestId("readiness").getByText("Not ready").waitFor();

  step("Teams says Ann is available; she goes ready");
  await ok(tokens.gateway, "RoutingService", "SetAgentPresence",
           { tenant_id: "contoso", agent_id: "ann", presence: "PRESENCE_AVAILABLE" });
  await agent.getByTestId("presence").getByText("Available").waitFor();
  await agent.getByRole("button", { name: "Ready", exact: true }).click();
  await agent.getByTestId("readiness").getByText("Ready", { exact: true }).waitFor();

  step("a caller arrives with what the IVR gathered; Ann sees the offer");
  await ok(tokens.gateway, "RoutingService", "SubmitCall", {
    call: { tenant_id: "contoso", call_id: "call-1", channel: "CHANNEL_VOICE",
            from: "+14255550100", queue_id: "support",
            attributes: { account: "A-10042", intent: "billing dispute" } },
  });
  const offer = agent.getByTestId("offer");
  await offer.waitFor();
  await offer.getByText("+14255550100").waitFor();
  await offer.getByText("billing dispute").waitFor();
  await offer.getByText("A-10042").waitFor();
  await agent.screenshot({ path: join(out, "agent-offer-desktop.png") });

  step("Ann accepts; the call is in her hands");
  await offer.getByRole("button", { name: "Accept" }).click();
  await agent.getByTestId("call").getByText("On a call with +14255550100").waitFor();
  await agent.screenshot({ path: join(out, "agent-call-desktop.png") });

  step("Ann records the outcome, ends the call and her wrap-up; her figures count it");
  const note = "Disputed the March invoice; a credit of 20 EUR was promised.";
  const card = agent.getByTestId("call");
  await card.getByLabel("Disposition").selectOption("Resolved");
  await card.getByLabel("Note").fill(note);
  await agent.getByRole("button", { name: "End call" }).click();
  await agent.getByRole("button", { name: "End wrap-up" }).first().click();
  await agent.getByTestId("handled").getByText("1").waitFor();
  const call = await ok(tokens.supervisor, "RoutingService", "GetCall",
                        { tenant_id: "contoso", call_id: "call-1" });
  assert.equal(call.state, "CALL_STATE_COMPLETED", "call-1 ends COMPLETED");
  assert.equal(call.agent_id, "ann", "call-1 was Ann's");
  assert.equal(call.disposition_code, "Resolved", "call-1's disposition");
  assert.equal(call.note, note, "call-1's note");

  step("the caller calls again: the offer shows the earlier call and its note");
  await ok(tokens.gateway, "RoutingService", "SubmitCall", {
    call: { tenant_id: "contoso", call_id: "call-3", channel: "CHANNEL_VOICE",
            from: "+14255550100", queue_id: "support" },
  });
  const again = agent.getByTestId("offer");
  await again.getByTestId("history").getByText(note).waitFor();
  await again.getByTestId("history").getByText("Resolved").waitFor();
  await agent.screenshot({ path: join(out, "agent-offer-history-desktop.png") });
  await ok(tokens.gateway, "RoutingService", "CancelCall",
           { tenant_id: "contoso", call_id: "call-3" });
  await again.waitFor({ state: "detached" });
  const history = await ok(tokens.supervisor, "StatsService", "ListCallHistory",
                           { tenant_id: "contoso", caller: "+14255550100" });
  assert.equal(history.records.length, 2, "the caller's two calls in history");
  assert.equal(history.records[0].note, note, "the note is kept in history");
  assert.equal(history.records[0].from, "+14255550100", "the caller in history");

  step("the agent view at a phone's width");
  const phoneAgent = await signedIn(tokens.ann, phone);
  await phoneAgent.goto(`${edge}/agent?tenant=contoso&agent=ann`);
  await phoneAgent.getByTestId("readiness").getByText("Ready", { exact: true }).waitFor();
  await phoneAgent.screenshot({ path: join(out, "agent-phone.png") });

  // --- The supervisor: the wallboard moves with the calls.
  step("the supervisor opens the wallboard");
  const sup = await signedIn(tokens.supervisor);
  await sup.goto(`${edge}/supervisor?tenant=contoso`);
  await sup.getByTestId("waiting-support").getByText("0").waitFor();
  await sup.getByTestId("answered-support").getByText("1").waitFor();
  await sup.screenshot({ path: join(out, "supervisor-wallboard-desktop.png") });

  step("the supervisor makes Ann not ready from the agent grid");
  await sup.getByTestId("agent-ann").getByRole("button", { name: "Not ready" }).click();
  await sup.getByTestId("agent-ann").getByText("Not ready (Set by supervisor)").waitFor();
  await agent.getByTestId("readiness").getByText("Not ready").waitFor();

  step("a call waits: the wallboard shows it, then its abandon");
  await ok(tokens.gateway, "RoutingService", "SubmitCall", {
    call: { tenant_id: "contoso", call_id: "call-2", channel: "CHANNEL_VOICE",
            from: "+14255550111", queue_id: "support" },
  });
  await sup.getByTestId("waiting-support").getByText("1").waitFor();
  await sup.screenshot({ path: join(out, "supervisor-desktop.png") });
  await ok(tokens.gateway, "RoutingService", "CancelCall",
           { tenant_id: "contoso", call_id: "call-2" });
  await sup.getByTestId("waiting-support").getByText("0").waitFor();

  step("the day's charts, read from the history");
  await sup.getByRole("tab", { name: "Today" }).click();
  const today = sup.getByTestId("today");
  await today.getByText("3 calls today, 1 answered, 0 abandoned").waitFor();
  assert.equal(await today.locator("svg").count(), 3, "three charts");
  assert.equal(await today.getByRole("cell", { name: "ann", exact: true }).count(), 1,
               "Ann in the agents' table");
  await sup.screenshot({ path: join(out, "supervisor-today-desktop.png"), fullPage: true });

  step("the history search by caller, and its CSV export");
  await sup.getByRole("tab", { name: "History" }).click();
  const search = sup.getByTestId("history-search");
  await search.getByPlaceholder("+14255550100").fill("+14255550100");
  await search.getByRole("button", { name: "Search" }).click();
  const results = sup.getByTestId("history-results");
  await results.getByText(note).waitFor();
  assert.equal(await results.locator("tbody tr").count(), 2, "the caller's two calls");
  await sup.screenshot({ path: join(out, "supervisor-history-desktop.png") });
  const [download] = await Promise.all([
    sup.waitForEvent("download"),
    search.getByRole("button", { name: "Export CSV" }).click(),
  ]);
  const csv = readFileSync(await download.path(), "utf8").split("\r\n");
  assert.equal(csv[0], "call_id,arrived_at,answered_at,ended_at,caller,queues,agent_id,outcome,disposition_code,note");
  assert.equal(csv.length, 4, "a header, two calls and the last line break");
  const row = csv.find((l) => l.startsWith("call-1,"));
  assert.ok(row, "call-1 in the CSV");
  assert.ok(row.includes(",'+14255550100,"), `the caller, kept from being a formula: ${row}`);
  assert.ok(row.endsWith(",ann,Completed,Resolved," + note), `call-1's row: ${row}`);
  await sup.getByRole("tab", { name: "Live" }).click();

  const phoneSup = await signedIn(tokens.supervisor, phone);
  await phoneSup.goto(`${edge}/supervisor?tenant=contoso`);
  await phoneSup.getByTestId("waiting-support").waitFor();
  await phoneSup.screenshot({ path: join(out, "supervisor-phone.png"), fullPage: true });

  step("Teams' dark and high-contrast themes");
  const dark = await signedIn(tokens.supervisor);
  await dark.goto(`${edge}/supervisor?tenant=contoso&theme=dark`);
  await dark.getByTestId("waiting-support").waitFor();
  assert.equal(await dark.evaluate(() => document.body.dataset.theme), "dark");
  const background = await dark.evaluate(() => getComputedStyle(document.body).backgroundColor);
  assert.equal(background, "rgb(31, 31, 31)", "the dark theme's background");
  await dark.screenshot({ path: join(out, "supervisor-dark.png") });
  const contrast = await signedIn(tokens.ann, phone);
  await contrast.goto(`${edge}/agent?tenant=contoso&agent=ann&theme=contrast`);
  await contrast.getByTestId("readiness").getByText("Not ready").waitFor();
  assert.equal(await contrast.evaluate(() => document.body.dataset.theme), "contrast");
  await contrast.screenshot({ path: join(out, "agent-contrast-phone.png") });

  // --- The admin: forms that show the engine's errors beside the field.
  step("an admin's invalid selector is shown beside its field, then saved");
  const admin = await signedIn(tokens.admin);
  await admin.goto(`${edge}/admin?tenant=contoso`);
  await admin.getByRole("button", { name: "New queue" }).click();
  const form = admin.getByTestId("queue-form");
  await form.getByLabel("Queue id").fill("vip");
  await form.getByRole("button", { name: "Add selector" }).click();
  const selector = form.getByTestId("selector-0");
  await selector.getByLabel("Key").fill("skil.vip");
  await selector.getByLabel("Values").fill("50");
  await form.getByRole("button", { name: "Save" }).click();
  await form.getByTestId("error-queue.selectors[0].key")
    .getByText("expected skill.NAME or label.NAME, found 'skil.vip'").waitFor();
  await admin.screenshot({ path: join(out, "admin-error-desktop.png"), fullPage: true });
  await selector.getByLabel("Key").fill("skill.vip");
  await form.getByRole("button", { name: "Save" }).click();
  await form.getByText("Saved.").waitFor();
  assert.equal(await form.getByRole("alert").count(), 0, "no error left once saved");
  await admin.getByRole("button", { name: "vip", exact: true }).waitFor();
  const vip = await ok(tokens.admin, "AdminService", "GetQueue", { tenant_id: "contoso", queue_id: "vip" });
  assert.equal(vip.selectors[0].key, "skill.vip", "the saved selector");
  assert.equal(vip.selectors[0].op, "SELECTOR_OP_GE");
  assert.deepEqual(vip.selectors[0].values, ["50"]);

  step("an admin sets a queue's business hours: an unknown time zone and a time past 24:00 are named beside their fields");
  await admin.getByRole("button", { name: "New queue" }).click();
  const billing = admin.getByTestId("queue-form");
  await billing.getByLabel("Queue id").fill("billing");
  await billing.getByLabel("Name").fill("Billing");
  const hours = billing.getByTestId("hours");
  await hours.getByLabel("Open only during business hours").check();
  await hours.getByLabel("Time zone").fill("Mars/Olympus");
  await billing.getByRole("button", { name: "Save" }).click();
  await hours.getByTestId("error-queue.hours.time_zone")
    .getByText("expected an IANA time zone such as Europe/London or America/New_York, found 'Mars/Olympus'").waitFor();
  await hours.getByLabel("Time zone").fill("Europe/London");
  await hours.getByTestId("open-0").getByLabel("To").fill("25:00");
  await billing.getByRole("button", { name: "Save" }).click();
  await hours.getByTestId("error-queue.hours.open[0].to")
    .getByText("expected a local time HH:MM (up to 24:00), found '25:00'").waitFor();
  assert.equal(await billing.getByRole("alert").count(), 1, "only the time's error is left");
  await billing.screenshot({ path: join(out, "admin-hours-error-desktop.png") });

  step("with today (and tomorrow) as holidays, a call to the closed queue overflows as its when-closed action says");
  // Both days, in the queue's time zone: the test may run across midnight.
  const londonDay = (ms) => new Date(ms).toLocaleDateString("en-CA", { timeZone: "Europe/London" });
  const holidays = [londonDay(Date.now()), londonDay(Date.now() + 86_400_000)];
  await hours.getByTestId("open-0").getByLabel("To").fill("17:30");
  for (const [i, day] of holidays.entries()) {
    await hours.getByRole("button", { name: "Add holiday" }).click();
    await hours.getByTestId(`holiday-${i}`).getByLabel("Holiday").fill(day);
  }
  const closed = billing.getByTestId("when_closed");
  await closed.getByLabel("When a call arrives while closed").selectOption("OVERFLOW");
  await closed.getByLabel("To queue").fill("support");
  await closed.getByLabel("Announcement").fill("closed-today");
  const limits = billing.getByTestId("limits");
  await limits.getByLabel("Callers waiting at most").fill("5");
  await limits.getByTestId("when_full").getByLabel("When the queue is full").selectOption("CALLBACK");
  const aging = billing.getByTestId("priority-aging");
  await aging.getByLabel("Every").fill("30");
  await aging.getByLabel("Raise by").fill("2");
  await aging.getByLabel("Up to").fill("10");
  await billing.getByRole("button", { name: "Save" }).click();
  await billing.getByText("Saved.").waitFor();
  assert.equal(await billing.getByRole("alert").count(), 0, "no error left once saved");
  const stored = await ok(tokens.admin, "AdminService", "GetQueue", { tenant_id: "contoso", queue_id: "billing" });
  assert.deepEqual(stored.hours, {
    time_zone: "Europe/London",
    open: [{ days: ["mon", "tue", "wed", "thu", "fri"], from: "09:00", to: "17:30" }],
    holidays,
  }, "the business hours as saved");
  assert.deepEqual(stored.when_closed, { kind: "KIND_OVERFLOW", queue_id: "support", announcement: "closed-today" });
  assert.equal(stored.when_full.kind, "KIND_CALLBACK");
  assert.equal(stored.max_length, 5);
  assert.deepEqual(stored.priority_aging, { interval: "30s", step: 2, max_boost: 10 });
  assert.deepEqual(stored.selectors ?? [], [], "a new queue's form starts empty");
  await ok(tokens.gateway, "RoutingService", "SubmitCall", {
    call: { tenant_id: "contoso", call_id: "call-5", channel: "CHANNEL_VOICE", from: "+14255550160", queue_id: "billing" },
  });
  const overflowed = await ok(tokens.supervisor, "RoutingService", "GetCall", { tenant_id: "contoso", call_id: "call-5" });
  assert.equal(overflowed.queue_id, "support", "call-5 moved on from the closed queue");
  assert.equal(overflowed.limit_reason, "closed");
  assert.equal(overflowed.announcement, "closed-today");
  await ok(tokens.gateway, "RoutingService", "CancelCall", { tenant_id: "contoso", call_id: "call-5" });

  step("the queue's form shows the saved hours again, at a desktop's and a phone's width");
  await admin.getByRole("button", { name: "billing", exact: true }).click();
  const reread = admin.getByTestId("queue-form");
  await reread.getByRole("heading", { name: "Queue billing" }).waitFor();
  assert.equal(await reread.getByTestId("hours").getByLabel("Time zone").inputValue(), "Europe/London");
  assert.equal(await reread.getByTestId("holiday-1").getByLabel("Holiday").inputValue(), holidays[1]);
  assert.equal(await reread.getByTestId("when_closed").getByLabel("To queue").inputValue(), "support");
  await reread.screenshot({ path: join(out, "admin-queue-desktop.png") });
  const phoneAdmin = await signedIn(tokens.admin, phone);
  await phoneAdmin.goto(`${edge}/admin?tenant=contoso`);
  await phoneAdmin.getByRole("button", { name: "billing", exact: true }).click();
  await phoneAdmin.getByTestId("hours").getByLabel("Time zone").waitFor();
  await phoneAdmin.getByTestId("hours").scrollIntoViewIfNeeded();
  await phoneAdmin.screenshot({ path: join(out, "admin-queue-phone.png") });

  step("an admin's classification rule naming an unknown queue is refused beside that rule's queue");
  await admin.getByRole("button", { name: "Edit rules" }).click();
  const rules = admin.getByTestId("rules-form");
  await rules.getByRole("button", { name: "Add rule" }).click();
  const first = rules.getByTestId("rule-0");
  await first.getByLabel("Rule id").fill("billing-calls");
  await first.getByTestId("condition-0").getByLabel("Attribute name").fill("intent");
  await first.getByTestId("condition-0").getByLabel("Values").fill("billing");
  await first.getByLabel("Queue").fill("billng");
  await rules.getByRole("button", { name: "Save" }).click();
  await first.getByTestId("error-rules[0].queue_id")
    .getByText("queue 'billng' does not exist in tenant 'contoso'").waitFor();
  assert.equal(await rules.getByRole("alert").count(), 1, "one error, beside the rule's queue");
  await rules.screenshot({ path: join(out, "admin-rule-error-desktop.png") });

  step("the admin adds a second rule and a default queue; a call with matching attributes lands in the first rule's queue");
  await first.getByLabel("Queue").fill("support");
  await rules.getByRole("button", { name: "Add rule" }).click();
  const second = rules.getByTestId("rule-1");
  await second.getByLabel("Rule id").fill("gold-callers");
  await second.getByTestId("condition-0").getByLabel("Attribute name").fill("tier");
  await second.getByTestId("condition-0").getByLabel("Match").selectOption("IN");
  await second.getByTestId("condition-0").getByLabel("Values").fill("gold, platinum");
  await second.getByLabel("Queue").fill("vip");
  await second.getByLabel("Priority").fill("5");
  await rules.getByLabel("Default queue").fill("support");
  await rules.getByRole("button", { name: "Save" }).click();
  await rules.getByText("Saved.").waitFor();
  const gold = { intent: "billing", tier: "gold" };
  const classified = async (call_id, attributes) => {
    await ok(tokens.gateway, "RoutingService", "SubmitCall", {
      call: { tenant_id: "contoso", call_id, channel: "CHANNEL_VOICE", from: "+14255550170", attributes },
    });
    const c = await ok(tokens.supervisor, "RoutingService", "GetCall", { tenant_id: "contoso", call_id });
    await ok(tokens.gateway, "RoutingService", "CancelCall", { tenant_id: "contoso", call_id });
    return c;
  };
  assert.equal((await classified("call-6", gold)).queue_id, "support", "billing-calls comes first");

  step("the admin moves the second rule up: the same call now lands in its queue, with its priority");
  await second.getByRole("button", { name: "Move gold-callers up" }).click();
  assert.equal(await rules.getByTestId("rule-0").getByLabel("Rule id").inputValue(), "gold-callers");
  await rules.getByRole("button", { name: "Save" }).click();
  await rules.getByText("Saved.").waitFor();
  const moved7 = await classified("call-7", gold);
  assert.equal(moved7.queue_id, "vip", "gold-callers comes first now");
  assert.equal(moved7.call.priority, 5, "gold-callers' priority");
  assert.equal((await classified("call-8", { tier: "bronze" })).queue_id, "support", "no rule holds: the default queue");
  await rules.screenshot({ path: join(out, "admin-rules-desktop.png") });

  step("the rules read back in their order (GetClassificationRules), in the form at a phone's width too");
  const stored_rules = await ok(tokens.admin, "AdminService", "GetClassificationRules", { tenant_id: "contoso" });
  assert.deepEqual(stored_rules.rules.map((r) => r.rule_id), ["gold-callers", "billing-calls"], "the rules' order");
  assert.deepEqual(stored_rules.rules[0].conditions, [{ field: "attribute.tier", match: "MATCH_IN", values: ["gold", "platinum"] }]);
  assert.equal(stored_rules.default_queue_id, "support");
  await phoneAdmin.getByRole("button", { name: "Edit rules" }).click();
  const phoneRules = phoneAdmin.getByTestId("rules-form");
  await phoneRules.getByTestId("rule-1").waitFor();
  assert.equal(await phoneRules.getByTestId("rule-0").getByLabel("Rule id").inputValue(), "gold-callers");
  assert.equal(await phoneRules.getByTestId("rule-1").getByTestId("condition-0").getByLabel("Attribute name").inputValue(), "intent");
  assert.equal(await phoneRules.getByLabel("Default queue").inputValue(), "support");
  await phoneRules.evaluate((form) => form.scrollIntoView());
  await phoneAdmin.screenshot({ path: join(out, "admin-rules-phone.png") });

  step("an admin gives Bob a skill: a proficiency past 100 is named beside that skill");
  await admin.getByRole("button", { name: "bob", exact: true }).click();
  const bob = admin.getByTestId("agent-form");
  await bob.getByRole("button", { name: "Add skill" }).click();
  const skill = bob.getByTestId("agent.skills-0");
  await skill.getByLabel("Skill").fill("vip");
  await skill.getByLabel("Proficiency").fill("150");
  await bob.getByRole("button", { name: "Add label" }).click();
  await bob.getByTestId("agent.labels-0").getByLabel("Label").fill("tier");
  await bob.getByTestId("agent.labels-0").getByLabel("Value").fill("senior");
  await bob.getByLabel("vip", { exact: true }).check();
  await bob.getByRole("button", { name: "Save" }).click();
  await skill.getByTestId("error-agent.skills[vip]").getByText("a proficiency is 0..100, found 150").waitFor();
  await skill.getByLabel("Proficiency").fill("70");
  await bob.getByRole("button", { name: "Save" }).click();
  await bob.getByText("Saved.").waitFor();
  const bobNow = await ok(tokens.admin, "AdminService", "GetAgent", { tenant_id: "contoso", agent_id: "bob" });
  assert.deepEqual(bobNow.agent.skills, { vip: 70 }, "Bob's skills");
  assert.deepEqual(bobNow.agent.labels, { tier: "senior" }, "Bob's labels");
  assert.deepEqual(bobNow.agent.queue_ids, ["support", "vip"], "Bob's queues");
  await bob.screenshot({ path: join(out, "admin-agent-desktop.png") });

  // --- What an agent may not see.
  step("an agent cannot open the supervisor's views");
  await agent.goto(`${edge}/supervisor?tenant=contoso&agent=ann`);
  await agent.getByRole("alert").getByText("need the Switchboard.Supervisor role").waitFor();
  assert.equal((await agent.getByTestId("agents").count()), 0, "no agent grid for an agent");
  await agent.goto(`${edge}/admin?tenant=contoso&agent=ann`);
  await agent.getByRole("alert").getByText("need the Switchboard.Admin role").waitFor();
  const denied = await api(tokens.ann, "AdminService", "ListAgents", { tenant_id: "contoso" });
  assert.equal(denied.status, 403, `ListAgents as an agent: ${JSON.stringify(denied.body)}`);

  step("nor another tenant's data");
  const other = await api(tokens.ann, "AdminService", "GetAgent",
                          { tenant_id: "fabrikam", agent_id: "fay" });
  assert.equal(other.status, 404, `fabrikam's agent as contoso's: ${JSON.stringify(other.body)}`);
  const otherPage = await signedIn(tokens.ann);
  await otherPage.goto(`${edge}/agent?tenant=fabrikam&agent=fay`);
  await otherPage.getByRole("alert").getByText("fabrikam").first().waitFor();

  step("an agent transfers a call to another queue");
  await ok(tokens.gateway, "RoutingService", "SetAgentReady",
           { tenant_id: "contoso", agent_id: "ann", ready: true });
  const transfer = await signedIn(tokens.ann);
  await transfer.goto(`${edge}/agent?tenant=contoso`);
  await transfer.getByTestId("readiness").getByText("Ready", { exact: true }).waitFor();
  await ok(tokens.gateway, "RoutingService", "SubmitCall", {
    call: { tenant_id: "contoso", call_id: "call-4", channel: "CHANNEL_VOICE",
            from: "+14255550150", queue_id: "support" },
  });
  await transfer.getByTestId("offer").getByRole("button", { name: "Accept" }).click();
  const handover = transfer.getByTestId("call").getByTestId("handover");
  await handover.getByLabel("Queue").selectOption("vip");
  await transfer.screenshot({ path: join(out, "agent-transfer-desktop.png") });
  await handover.getByRole("button", { name: "Transfer" }).click();
  await transfer.getByTestId("call").waitFor({ state: "detached" });
  const moved = await ok(tokens.supervisor, "RoutingService", "GetCall",
                         { tenant_id: "contoso", call_id: "call-4" });
  assert.equal(moved.queue_id, "vip", "call-4 waits in vip");
  assert.equal(moved.state, "CALL_STATE_QUEUED", "call-4 waits");
  await ok(tokens.gateway, "RoutingService", "CancelCall", { tenant_id: "contoso", call_id: "call-4" });

  step("an agent cancels a consult; a supervisor's transfer takes the call off her screen");
  await ok(tokens.gateway, "RoutingService", "SubmitCall", {
    call: { tenant_id: "contoso", call_id: "call-consult", channel: "CHANNEL_VOICE",
            from: "+14255550151", queue_id: "support" },
  });
  await transfer.getByTestId("offer").getByRole("button", { name: "Accept" }).click();
  const consult = transfer.getByTestId("call").getByTestId("handover");
  await consult.getByLabel("Queue").selectOption("vip");
  await consult.getByRole("button", { name: "Consult" }).click();
  const legs = async () =>
    ((await ok(tokens.supervisor, "RoutingService", "ListCalls", { tenant_id: "contoso" })).calls ?? [])
      .filter((c) => c.call.call_id.startsWith("call-consult/") && !c.state.match(/CANCELLED|COMPLETED/));
  await consult.getByRole("button", { name: "Cancel consult" }).waitFor();
  assert.equal((await legs()).length, 1, "the consult leg waits in vip");
  await transfer.screenshot({ path: join(out, "agent-consult-desktop.png") });
  await consult.getByRole("button", { name: "Cancel consult" }).click();
  await consult.getByRole("button", { name: "Cancel consult" }).waitFor({ state: "detached" });
  assert.equal((await transfer.getByRole("alert").count()), 0, "no error after Cancel consult");
  assert.deepEqual(await legs(), [], "no live consult leg of call-consult");
  await ok(tokens.supervisor, "RoutingService", "TransferCall",
           { tenant_id: "contoso", call_id: "call-consult", queue_id: "vip" });
  await transfer.getByTestId("call").waitFor({ state: "detached" });
  await ok(tokens.gateway, "RoutingService", "CancelCall", { tenant_id: "contoso", call_id: "call-consult" });

  step("no token, no data");
  const anonymous = await fetch(`${edge}/api/v1/AdminService/ListQueues`, {
    method: "POST", body: JSON.stringify({ tenant_id: "contoso" }),
  });
  assert.equal(anonymous.status, 401, "an API request without a token");
  console.log("all steps passed");
} catch (e) {
  failed = true;
  console.error(`FAILED: ${e.message}`);
  for (const [i, ctx] of browser.contexts().entries())
    for (const [j, page] of ctx.pages().entries())
      await page.screenshot({ path: join(out, `failure-${i}-${j}.png`) }).catch(() => {});
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
