// The supervisor's view: a live wallboard per queue and the agent grid.
// Figures are read again when events say something changed (at most a
// few times a second), never on a timer.

import { useEffect, useRef, useState } from "preact/hooks";
import { ApiError, Json, clock, seconds, since, useNow, words } from "./api";
import type { Session } from "./main";
import { History, Today } from "./reports";

function Tile({ label, value, id }: { label: string; value: string | number; id?: string }) {
  return (
    <div class="tile">
      <div class="value" data-testid={id}>
        {value}
      </div>
      <div class="label">{label}</div>
    </div>
  );
}

/// "2 idle · 1 busy · 3 not ready" of a queue's agent counts.
function agentCounts(counts: Json[]): string {
  const by = new Map<string, number>();
  for (const c of counts) {
    const label = !c.ready
      ? "not ready"
      : (words(c.activity, "AGENT_ACTIVITY_") || "idle").toLowerCase();
    by.set(label, (by.get(label) ?? 0) + Number(c.agents));
  }
  return [...by].map(([label, n]) => `${n} ${label}`).join(" · ");
}

export function Supervisor({ session }: { session: Session }) {
  const { api, tenant } = session;
  const [stats, setStats] = useState<Json[]>([]);
  const [queues, setQueues] = useState<Json[]>([]);
  const [tab, setTab] = useState("live");
  const [agents, setAgents] = useState<Json[]>([]);
  const [error, setError] = useState<string>();
  const pending = useRef<number | undefined>(undefined);
  const now = useNow();

  const load = async () => {
    try {
      const queues = (await api.call("AdminService", "ListQueues", { tenant_id: tenant })).queues ?? [];
      setQueues(queues);
      setStats(
        await Promise.all(
          queues.map((q: Json) => api.call("StatsService", "GetQueueStats", { tenant_id: tenant, queue_id: q.queue_id })),
        ),
      );
      setAgents((await api.call("AdminService", "ListAgents", { tenant_id: tenant })).agents ?? []);
      setError(undefined);
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e));
    }
  };

  useEffect(() => {
    void load();
    return api.events(
      tenant,
      (e) => {
        if (e.agent) {
          const id = e.agent.agent.agent_id;
          setAgents((list) => list.map((a) => (a.agent.agent_id === id ? e.agent : a)));
        }
        if (pending.current === undefined)
          pending.current = window.setTimeout(() => {
            pending.current = undefined;
            void load();
          }, 250);
      },
      (_connected, why) => why && setError(why),
    );
  }, [tenant]);

  const act = (f: () => Promise<unknown>) =>
    f().catch((e) => setError(e instanceof ApiError ? e.message : String(e)));

  return (
    <main class="supervisor">
      {error && <p class="error" role="alert">{error}</p>}
      <div class="tabs" role="tablist">
        {[
          ["live", "Live"],
          ["today", "Today"],
          ["history", "History"],
        ].map(([id, label]) => (
          <button role="tab" aria-selected={tab === id} onClick={() => setTab(id)}>
            {label}
          </button>
        ))}
      </div>
      {tab === "today" && <Today session={session} queues={queues} />}
      {tab === "history" && <History session={session} queues={queues} />}
      {tab === "live" && (
        <>
      <h1>Queues</h1>
      <div class="wallboard">
        {stats.map((s) => (
          <section class="card queue" aria-label={`Queue ${s.queue_id}`} data-testid={`queue-${s.queue_id}`}>
            <h2>
              {s.queue_id} {!s.open && <span class="badge">closed</span>}
            </h2>
            <div class="tiles">
              <Tile label="Waiting" value={s.waiting} id={`waiting-${s.queue_id}`} />
              <Tile label="Longest wait" value={clock(seconds(s.longest_wait))} />
              <Tile label="Service level" value={`${Number(s.service_level_percent).toFixed(0)} %`} />
              <Tile label="Avg. speed of answer" value={clock(seconds(s.average_speed_of_answer))} />
              <Tile label="Abandoned" value={`${Number(s.abandon_rate_percent).toFixed(0)} %`} />
              <Tile label="Answered" value={s.answered} id={`answered-${s.queue_id}`} />
            </div>
            <p class="muted" data-testid={`agents-${s.queue_id}`}>
              {agentCounts(s.agents ?? []) || "no agents"}
            </p>
          </section>
        ))}
      </div>
      <h1>Agents</h1>
      <table class="grid" data-testid="agents">
        <thead>
          <tr>
            <th>Agent</th>
            <th>State</th>
            <th>Teams</th>
            <th>In state</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {agents.map((a) => {
            const st = a.state ?? {};
            const id = a.agent.agent_id;
            return (
              <tr data-testid={`agent-${id}`}>
                <td>{a.agent.display_name || id}</td>
                <td>{st.ready ? words(st.activity, "AGENT_ACTIVITY_") || "Idle" : `Not ready${st.not_ready_reason ? ` (${st.not_ready_reason})` : ""}`}</td>
                <td>{words(st.presence, "PRESENCE_")}</td>
                <td>{st.idle_since ? clock(since(st.idle_since, now)) : ""}</td>
                <td>
                  <div class="actions">
                  {st.ready && (
                    <button onClick={() => act(() => api.call("RoutingService", "SetAgentReady", { tenant_id: tenant, agent_id: id, ready: false, reason: "Set by supervisor" }))}>
                      Not ready
                    </button>
                  )}
                  {st.presence !== "PRESENCE_OFFLINE" && (
                    <button onClick={() => act(() => api.call("RoutingService", "SetAgentPresence", { tenant_id: tenant, agent_id: id, presence: "PRESENCE_OFFLINE" }))}>
                      Sign out
                    </button>
                  )}
                  </div>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
        </>
      )}
    </main>
  );
}
