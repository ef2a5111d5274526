// The agent's view: presence and readiness, the offer as it arrives with
// what the caller's IVR gathered, the calls in hand, wrap-up, and the
// agent's own figures today. Everything updates from the event stream.

import { useEffect, useState } from "preact/hooks";
import { ApiError, Json, clock, seconds, since, useNow, words } from "./api";
import type { Session } from "./main";

const reasons = ["Break", "Lunch", "Meeting", "Training", "Admin work"];

const dispositions = ["Resolved", "Follow-up needed", "Escalated", "Callback promised", "Wrong number"];

/// The caller's earlier calls and the notes agents left on them, newest
/// first: what an agent reads before answering.
function CallerHistory({ session, caller }: { session: Session; caller: string }) {
  const [records, setRecords] = useState<Json[]>();
  const [error, setError] = useState<string>();
  useEffect(() => {
    if (!caller) return;
    const from = new Date(Date.now() - 90 * 86400_000).toISOString();
    session.api
      .call("StatsService", "ListCallHistory", { tenant_id: session.tenant, caller, from, page_size: 100 })
      .then(
        (r) => setRecords(((r.records ?? []) as Json[]).slice(-5).reverse()),
        (e) => setError(e instanceof ApiError ? e.message : String(e)),
      );
  }, [caller]);
  if (error) return <p class="muted">Earlier calls: {error}</p>;
  if (!records) return <p class="muted">Earlier calls…</p>;
  if (records.length === 0) return <p class="muted" data-testid="history">No earlier calls from this caller.</p>;
  return (
    <div class="history" data-testid="history">
      <h3>Earlier calls</h3>
      <ul>
        {records.map((r) => (
          <li>
            <span class="muted">
              {new Date(r.ended_at).toLocaleString()} · {words(r.outcome, "CALL_STATE_")}
              {r.agent_id && ` · ${r.agent_id}`}
            </span>
            {r.disposition_code && <strong> {r.disposition_code}</strong>}
            {r.note && <blockquote>{r.note}</blockquote>}
          </li>
        ))}
      </ul>
    </div>
  );
}

/// What the agent records about a call: its disposition code and a note,
/// saved with the call (SetCallDisposition) before it ends.
function Outcome({ call, onChange }: { call: Json; onChange: (code: string, note: string) => void }) {
  return (
    <div class="outcome">
      <label>
        Disposition{" "}
        <select
          value={call.disposition_code ?? ""}
          onChange={(e) => onChange((e.target as HTMLSelectElement).value, call.note ?? "")}
          aria-label="Disposition"
        >
          <option value="">—</option>
          {dispositions.map((d) => (
            <option>{d}</option>
          ))}
        </select>
      </label>
      <label>
        Note
        <textarea
          rows={3}
          maxLength={4000}
          value={call.note ?? ""}
          onInput={(e) => onChange(call.disposition_code ?? "", (e.target as HTMLTextAreaElement).value)}
          aria-label="Note"
        />
      </label>
    </div>
  );
}

/// Moving an answered call on: a blind transfer, or a consult (the agent
/// stays on the call) that then hands the call over or becomes a
/// conference.
function Handover({ session, callId, onError, onGone }: {
  session: Session;
  callId: string;
  onError: (e: unknown) => void;
  /// The call left the agent (transferred, or handed over).
  onGone: () => void;
}) {
  const [queues, setQueues] = useState<string[]>([]);
  const [kind, setKind] = useState("queue");
  const [target, setTarget] = useState("");
  const [leg, setLeg] = useState<string>();
  useEffect(() => {
    session.api.call("AdminService", "ListQueues", { tenant_id: session.tenant }).then(
      (r) => setQueues(((r.queues ?? []) as Json[]).map((q) => q.queue_id)),
      () => {},
    );
  }, [session.tenant]);
  const ids = { tenant_id: session.tenant, call_id: callId };
  const to = () => (kind === "queue" ? { queue_id: target } : { agent_id: target });
  const run = (f: () => Promise<unknown>) => f().catch(onError);
  return (
    <div class="handover" data-testid="handover">
      <label>
        To{" "}
        <select value={kind} onChange={(e) => { setKind((e.target as HTMLSelectElement).value); setTarget(""); }} aria-label="Transfer to">
          <option value="queue">a queue</option>
          <option value="agent">an agent</option>
        </select>
      </label>
      {kind === "queue" ? (
        <select value={target} onChange={(e) => setTarget((e.target as HTMLSelectElement).value)} aria-label="Queue">
          <option value="">choose…</option>
          {queues.map((q) => (
            <option>{q}</option>
          ))}
        </select>
      ) : (
        <input value={target} placeholder="agent id" onInput={(e) => setTarget((e.target as HTMLInputElement).value)} aria-label="Agent" />
      )}
      <button disabled={!target} onClick={() => run(async () => { await session.api.call("RoutingService", "TransferCall", { ...ids, ...to() }); onGone(); })}>
        Transfer
      </button>
      <button
        disabled={!target || !!leg}
        onClick={() => run(async () => setLeg((await session.api.call("RoutingService", "ConsultCall", { ...ids, ...to() })).call.call_id))}
      >
        Consult
      </button>
      {leg && (
        <>
          <button onClick={() => run(async () => { await session.api.call("RoutingService", "CompleteConsult", ids); setLeg(undefined); onGone(); })}>
            Hand over
          </button>
          <button onClick={() => run(() => session.api.call("RoutingService", "JoinConsult", ids))}>Conference</button>
          <button
            onClick={() =>
              run(async () => {
                await session.api.call("RoutingService", "CancelCall", {
                  tenant_id: session.tenant,
                  call_id: leg,
                  reason: "REASON_CANCELLED",
                });
                setLeg(undefined);
              })
            }
          >
            Cancel consult
          </button>
        </>
      )}
    </div>
  );
}

export function AgentView({ session }: { session: Session }) {
  const { api, tenant, agent } = session;
  const [view, setView] = useState<Json>();
  const [offers, setOffers] = useState<Record<string, Json>>({});
  const [calls, setCalls] = useState<Record<string, Json>>({});
  /// The disposition and note typed for each call, until saved.
  const [drafts, setDrafts] = useState<Record<string, { code: string; note: string }>>({});
  const [stats, setStats] = useState<Json>();
  const [reason, setReason] = useState(reasons[0]);
  const [error, setError] = useState<string>();
  const [live, setLive] = useState(false);
  const now = useNow();

  const act = async (f: () => Promise<unknown>) => {
    try {
      setError(undefined);
      await f();
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e));
    }
  };
  const ids = { tenant_id: tenant, agent_id: agent };
  const refreshStats = () =>
    api.call("StatsService", "GetAgentStats", ids).then(setStats, () => {});

  useEffect(() => {
    if (!agent) return;
    void act(async () => setView(await api.call("AdminService", "GetAgent", ids)));
    void refreshStats();
    return api.events(
      tenant,
      (e) => {
        if (e.agent?.agent?.agent_id === agent) setView(e.agent);
        const call = e.call;
        if (!call) return;
        const id = call.call.call_id;
        if (e.type === "EVENT_TYPE_CALL_OFFERED" && e.offer?.agent_id === agent)
          setOffers((o) => ({ ...o, [id]: { call, offer: e.offer } }));
        else
          setOffers((o) => {
            if (!o[id]) return o;
            const { [id]: _gone, ...rest } = o;
            return rest;
          });
        if (call.agent_id === agent && (call.state === "CALL_STATE_ASSIGNED" || call.state === "CALL_STATE_WRAP_UP"))
          setCalls((c) => ({ ...c, [id]: call }));
        else if (call.state !== "CALL_STATE_OFFERED")
          setCalls((c) => {
            if (!c[id]) return c;
            const { [id]: _gone, ...rest } = c;
            void refreshStats();
            return rest;
          });
      },
      (connected, why) => {
        setLive(connected);
        if (why) setError(why);
      },
    );
  }, [tenant, agent]);

  /// Saves the call's draft outcome, if any, before `then`.
  const saveThen = (id: string, then: () => Promise<unknown>) =>
    act(async () => {
      const d = drafts[id];
      if (d)
        await api.call("RoutingService", "SetCallDisposition", {
          tenant_id: tenant,
          call_id: id,
          disposition_code: d.code,
          note: d.note,
        });
      setDrafts(({ [id]: _saved, ...rest }) => rest);
      await then();
    });

  if (!agent)
    return (
      <main>
        <p class="error" role="alert">
          You are no agent of {tenant}: no agent has your Teams user id. An admin adds you (or open this page
          with ?agent=AGENT-ID).
        </p>
      </main>
    );
  const state = view?.state ?? {};
  const ready = !!state.ready;
  return (
    <main class="agent">
      {error && <p class="error" role="alert">{error}</p>}
      <section class="card status" aria-label="Status">
        <div>
          <span class={`dot ${!view ? "" : ready ? "ok" : "off"}`} />
          <strong data-testid="readiness">{!view ? "…" : ready ? "Ready" : "Not ready"}</strong>
          {!ready && state.not_ready_reason && <span class="muted"> · {state.not_ready_reason}</span>}
        </div>
        <div class="muted">
          Teams: <span data-testid="presence">{words(state.presence, "PRESENCE_") || "Unknown"}</span> ·{" "}
          {words(state.activity, "AGENT_ACTIVITY_") || "Idle"}
          {!live && " · reconnecting…"}
        </div>
        <div class="actions">
          {ready ? (
            <>
              <select value={reason} onChange={(e) => setReason((e.target as HTMLSelectElement).value)} aria-label="Reason">
                {reasons.map((r) => (
                  <option>{r}</option>
                ))}
              </select>
              <button onClick={() => act(async () => setView(await api.call("RoutingService", "SetAgentReady", { ...ids, ready: false, reason })))}>
                Not ready
              </button>
            </>
          ) : (
            <button class="primary" onClick={() => act(async () => setView(await api.call("RoutingService", "SetAgentReady", { ...ids, ready: true })))}>
              Ready
            </button>
          )}
        </div>
      </section>

      {Object.entries(offers).map(([id, { call, offer }]) => (
        <section class="card offer" aria-label="Offer" data-testid="offer">
          <h2>
            {words(call.call.channel, "CHANNEL_") || "Call"} from {call.call.from || "unknown"}
          </h2>
          <p class="muted">
            Queue {call.queue_id} · waited {clock(since(call.enqueued_at, now))} · answer within{" "}
            {clock(-since(offer.expires_at, now))}
          </p>
          {Object.keys(call.call.attributes ?? {}).length > 0 && (
            <dl class="context">
              {Object.entries(call.call.attributes).map(([k, v]) => (
                <>
                  <dt>{k}</dt>
                  <dd>{String(v)}</dd>
                </>
              ))}
            </dl>
          )}
          <CallerHistory session={session} caller={call.call.from} />
          <div class="actions">
            <button class="primary" onClick={() => act(() => api.call("RoutingService", "AcceptOffer", { ...ids, call_id: id, offer_id: offer.offer_id }))}>
              Accept
            </button>
            <button onClick={() => act(() => api.call("RoutingService", "DeclineOffer", { ...ids, call_id: id, offer_id: offer.offer_id }))}>
              Decline
            </button>
          </div>
        </section>
      ))}

      {Object.entries(calls).map(([id, call]) => (
        <section class="card call" aria-label="Call" data-testid="call">
          <h2>
            {call.state === "CALL_STATE_WRAP_UP" ? "Wrap-up: " : "On a call with "}
            {call.call.from || "unknown"}
          </h2>
          <p class="muted">Queue {call.queue_id}</p>
          {call.state === "CALL_STATE_ASSIGNED" && (
            <Handover
              session={session}
              callId={id}
              onError={(e) => setError(e instanceof ApiError ? e.message : String(e))}
              onGone={() => setCalls(({ [id]: _gone, ...rest }) => rest)}
            />
          )}
          <Outcome
            call={drafts[id] ? { disposition_code: drafts[id].code, note: drafts[id].note } : call}
            onChange={(code, note) => setDrafts((d) => ({ ...d, [id]: { code, note } }))}
          />
          <div class="actions">
            {drafts[id] && (
              <button onClick={() => saveThen(id, async () => {})}>Save</button>
            )}
            {call.state === "CALL_STATE_ASSIGNED" ? (
              <button onClick={() => saveThen(id, () => api.call("RoutingService", "CompleteCall", { tenant_id: tenant, call_id: id }))}>
                End call
              </button>
            ) : (
              <button class="primary" onClick={() => saveThen(id, () => api.call("RoutingService", "EndWrapUp", ids))}>
                End wrap-up
              </button>
            )}
          </div>
        </section>
      ))}
      {state.activity === "AGENT_ACTIVITY_WRAP_UP" && Object.keys(calls).length === 0 && (
        <section class="card call" aria-label="Wrap-up">
          <h2>Wrap-up</h2>
          <p class="muted">until {state.wrap_up_until ? new Date(state.wrap_up_until).toLocaleTimeString() : "you end it"}</p>
          <button class="primary" onClick={() => act(() => api.call("RoutingService", "EndWrapUp", ids))}>
            End wrap-up
          </button>
        </section>
      )}

      <section class="card figures" aria-label="Today">
        <h2>Today</h2>
        <dl>
          <dt>Handled</dt>
          <dd data-testid="handled">{stats?.handled ?? 0}</dd>
          <dt>Missed</dt>
          <dd>{stats?.missed ?? 0}</dd>
          <dt>Average handle time</dt>
          <dd>{clock(seconds(stats?.average_handle_time))}</dd>
          <dt>Busy</dt>
          <dd>{clock(seconds(stats?.busy))}</dd>
        </dl>
      </section>
    </main>
  );
}
