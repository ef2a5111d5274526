// The admin's view: the tenant's queues, agents and classification rules,
// edited in forms that show the engine's validation errors beside the
// field they name. The router checks everything (UpsertQueue, UpsertAgent,
// UpsertClassificationRules); the forms only shape the request and place
// the answer.

import { useEffect, useState } from "preact/hooks";
import { ApiError, Json } from "../api";
import type { Session } from "../main";
import { AgentForm } from "./agent";
import { QueueForm } from "./queue";
import { RulesForm } from "./rules";

export function Admin({ session }: { session: Session }) {
  const [queues, setQueues] = useState<Json[]>([]);
  const [agents, setAgents] = useState<Json[]>([]);
  const [editing, setEditingNow] = useState<string>("");
  // Each click opens a fresh form, also "New queue" right after one was saved.
  const [opened, setOpened] = useState(0);
  const setEditing = (what: string) => {
    setEditingNow(what);
    setOpened(opened + 1);
  };
  const [error, setError] = useState<string>();
  const load = () =>
    Promise.all([
      session.api.call("AdminService", "ListQueues", { tenant_id: session.tenant }),
      session.api.call("AdminService", "ListAgents", { tenant_id: session.tenant }),
    ]).then(
      ([q, a]) => {
        setQueues(q.queues ?? []);
        setAgents(a.agents ?? []);
      },
      (e) => setError(e instanceof ApiError ? e.message : String(e)),
    );
  useEffect(() => {
    void load();
  }, [session.tenant]);
  // On a phone the form opens below the lists: bring it into view.
  useEffect(() => {
    if (opened > 0) document.querySelector(".admin-form")?.scrollIntoView({ block: "start" });
  }, [opened]);
  const queue = queues.find((q) => `queue:${q.queue_id}` === editing);
  const agent = agents.find((a) => `agent:${a.agent.agent_id}` === editing);
  const queueIds: string[] = queues.map((q) => q.queue_id);
  return (
    <main class="admin">
      {error && <p class="error" role="alert">{error}</p>}
      <div class="admin-lists">
        <section>
          <h1>Queues</h1>
          <ul class="list">
            {queues.map((q) => (
              <li>
                <button class="link" onClick={() => setEditing(`queue:${q.queue_id}`)}>
                  {q.queue_id}
                </button>{" "}
                <span class="muted">
                  {q.display_name}
                  {q.hours ? ` · hours ${q.hours.time_zone}` : ""}
                </span>
              </li>
            ))}
          </ul>
          <button onClick={() => setEditing("queue:")}>New queue</button>
        </section>
        <section>
          <h1>Agents</h1>
          <ul class="list">
            {agents.map((a) => (
              <li>
                <button class="link" onClick={() => setEditing(`agent:${a.agent.agent_id}`)}>
                  {a.agent.agent_id}
                </button>{" "}
                <span class="muted">{a.agent.display_name}</span>
              </li>
            ))}
          </ul>
          <button onClick={() => setEditing("agent:")}>New agent</button>
        </section>
        <section>
          <h1>Classification</h1>
          <p class="muted">Which queue a call submitted without one goes to.</p>
          <button onClick={() => setEditing("rules")}>Edit rules</button>
        </section>
      </div>
      {editing.startsWith("queue:") && <QueueForm key={opened} session={session} queue={queue} queues={queueIds} onSaved={load} />}
      {editing.startsWith("agent:") && <AgentForm key={opened} session={session} agent={agent} queues={queueIds} onSaved={load} />}
      {editing === "rules" && <RulesForm key={opened} session={session} queues={queueIds} onSaved={load} />}
    </main>
  );
}
