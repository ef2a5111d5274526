// The admin's view: the tenant's queues and agents, edited in forms that
// show the engine's validation errors beside the field they name. The
// router checks everything (UpsertQueue, UpsertAgent); the form only
// shapes the request and places the answer.

import { useEffect, useState } from "preact/hooks";
import { ApiError, Json, seconds } from "./api";
import type { Session } from "./main";

/// "queue.selectors[0].key: expected ..." split into the field path and
/// the message; a message without a path stays whole.
export function fieldOf(message: string): { field: string; text: string } {
  const m = /^([a-z_]+(?:\[\d+\])?(?:\.[a-z_]+(?:\[\d+\])?)*): (.*)$/s.exec(message);
  return m ? { field: m[1], text: m[2] } : { field: "", text: message };
}

const ops = ["EQ", "NE", "GT", "GE", "LT", "LE", "EXISTS", "IN"];
const modes = ["LONGEST_IDLE", "ROUND_ROBIN", "BEST_SKILL"];

interface SelectorRow {
  key: string;
  op: string;
  values: string;
}

type Problem = { field: string; text: string };

/// A field's error, shown beside it when the router named it (or a field
/// inside it).
function FieldError({ error, field, exact = false }: { error?: Problem; field: string; exact?: boolean }) {
  const named =
    error?.field === field || (!exact && !!error?.field && (error.field.startsWith(field + ".") || error.field.startsWith(field + "[")));
  if (!error || !named) return null;
  return (
    <span class="field-error" role="alert" data-testid={`error-${field}`}>
      {error.text}
    </span>
  );
}

/// An input's text into `set`.
const text = (set: (v: string) => void) => (e: Event) => set((e.target as HTMLInputElement).value);

/// Saving a form: runs the upsert, then keeps the router's refusal (placed
/// by the field its message names) or says it was saved.
function useSave(onSaved: () => void) {
  const [error, setError] = useState<Problem>();
  const [saved, setSaved] = useState(false);
  const save = async (upsert: () => Promise<unknown>) => {
    setSaved(false);
    try {
      await upsert();
      setError(undefined);
      setSaved(true);
      onSaved();
    } catch (x) {
      setError(x instanceof ApiError ? fieldOf(x.message) : { field: "", text: String(x) });
    }
  };
  return { error, setError, saved, save };
}

/// A form's end: an error no field claims, Save, and "Saved.".
function FormEnd({ error, saved }: { error?: Problem; saved: boolean }) {
  return (
    <>
      {error && !error.field && (
        <p class="error" role="alert">
          {error.text}
        </p>
      )}
      <div class="actions">
        <button class="primary" type="submit">
          Save
        </button>
        {saved && <span class="muted">Saved.</span>}
      </div>
    </>
  );
}

function QueueForm({ session, queue, onSaved }: { session: Session; queue?: Json; onSaved: () => void }) {
  const [id, setId] = useState(queue?.queue_id ?? "");
  const [name, setName] = useState(queue?.display_name ?? "");
  const [mode, setMode] = useState((queue?.mode ?? "DISTRIBUTION_MODE_LONGEST_IDLE").replace("DISTRIBUTION_MODE_", "") || "LONGEST_IDLE");
  const [selectors, setSelectors] = useState<SelectorRow[]>(
    (queue?.selectors ?? []).map((s: Json) => ({ key: s.key, op: s.op.replace("SELECTOR_OP_", ""), values: (s.values ?? []).join(", ") })),
  );
  const [offer, setOffer] = useState(String(seconds(queue?.offer_timeout) || 20));
  const [wrap, setWrap] = useState(String(seconds(queue?.wrap_up) || 0));
  const [maxWait, setMaxWait] = useState(queue?.max_wait ? String(seconds(queue.max_wait)) : "");
  const [overflow, setOverflow] = useState(queue?.overflow_queue_id ?? "");
  const { error, saved, save: run } = useSave(onSaved);
  const duration = (s: string) => (s.trim() === "" ? undefined : `${s.trim()}s`);
  const save = (e: Event) => {
    e.preventDefault();
    void run(() =>
      session.api.call("AdminService", "UpsertQueue", {
        queue: {
          ...(queue ?? {}),
          tenant_id: session.tenant,
          queue_id: id,
          display_name: name,
          mode: `DISTRIBUTION_MODE_${mode}`,
          selectors: selectors.map((s) => ({
            key: s.key.trim(),
            op: `SELECTOR_OP_${s.op}`,
            values: s.values.split(",").map((v) => v.trim()).filter((v) => v !== ""),
          })),
          offer_timeout: duration(offer),
          wrap_up: duration(wrap),
          max_wait: duration(maxWait),
          overflow_queue_id: overflow,
        },
      }),
    );
  };
  return (
    <form class="card admin-form" onSubmit={save} data-testid="queue-form">
      <h2>{queue ? `Queue ${queue.queue_id}` : "New queue"}</h2>
      <label>
        Queue id <input value={id} onInput={text(setId)} disabled={!!queue} />
        <FieldError error={error} field="queue.queue_id" />
      </label>
      <label>
        Name <input value={name} onInput={text(setName)} />
        <FieldError error={error} field="queue.display_name" />
      </label>
      <label>
        Distribution{" "}
        <select value={mode} onChange={text(setMode)}>
          {modes.map((m) => (
            <option value={m}>{m.toLowerCase().replace("_", " ")}</option>
          ))}
        </select>
      </label>
      <fieldset>
        <legend>Selectors (every call of the queue needs an agent who matches)</legend>
        {selectors.map((s, i) => {
          const set = (patch: Partial<SelectorRow>) =>
            setSelectors(selectors.map((x, j) => (j === i ? { ...x, ...patch } : x)));
          return (
            <div class="selector" data-testid={`selector-${i}`}>
              <label>
                Key
                <input value={s.key} placeholder="skill.billing" onInput={(e) => set({ key: (e.target as HTMLInputElement).value })} />
                <FieldError error={error} field={`queue.selectors[${i}].key`} />
              </label>
              <label>
                Op
                <select value={s.op} onChange={(e) => set({ op: (e.target as HTMLSelectElement).value })}>
                  {ops.map((o) => (
                    <option>{o}</option>
                  ))}
                </select>
                <FieldError error={error} field={`queue.selectors[${i}].op`} />
              </label>
              <label>
                Values
                <input value={s.values} placeholder="60" onInput={(e) => set({ values: (e.target as HTMLInputElement).value })} />
                <FieldError error={error} field={`queue.selectors[${i}].values`} />
              </label>
              <button type="button" onClick={() => setSelectors(selectors.filter((_, j) => j !== i))}>
                Remove
              </button>
            </div>
          );
        })}
        <button type="button" onClick={() => setSelectors([...selectors, { key: "", op: "GE", values: "" }])}>
          Add selector
        </button>
        <FieldError error={error} field="queue.selectors" exact />
      </fieldset>
      <label>
        Offer timeout (s) <input value={offer} onInput={text(setOffer)} inputMode="numeric" />
        <FieldError error={error} field="queue.offer_timeout" />
      </label>
      <label>
        Wrap-up (s) <input value={wrap} onInput={text(setWrap)} inputMode="numeric" />
        <FieldError error={error} field="queue.wrap_up" />
      </label>
      <label>
        Longest wait before overflow (s, empty: none) <input value={maxWait} onInput={text(setMaxWait)} inputMode="numeric" />
        <FieldError error={error} field="queue.max_wait" />
      </label>
      <label>
        Overflow queue <input value={overflow} onInput={text(setOverflow)} />
        <FieldError error={error} field="queue.overflow_queue_id" />
      </label>
      <FormEnd error={error} saved={saved} />
    </form>
  );
}

function AgentForm({ session, agent, queues, onSaved }: { session: Session; agent?: Json; queues: Json[]; onSaved: () => void }) {
  const a = agent?.agent;
  const [id, setId] = useState(a?.agent_id ?? "");
  const [name, setName] = useState(a?.display_name ?? "");
  const [teams, setTeams] = useState(a?.teams_user_id ?? "");
  const [skills, setSkills] = useState(
    Object.entries((a?.skills ?? {}) as Record<string, number>)
      .map(([k, v]) => `${k}=${v}`)
      .join(", "),
  );
  const [member, setMember] = useState<string[]>(a?.queue_ids ?? []);
  const { error, setError, saved, save: run } = useSave(onSaved);
  const save = (e: Event) => {
    e.preventDefault();
    const parsed: Record<string, number> = {};
    for (const item of skills.split(",").map((s) => s.trim()).filter(Boolean)) {
      const [k, v] = item.split("=").map((s) => s.trim());
      const n = Number(v);
      if (!k || !Number.isInteger(n)) {
        setError({ field: "agent.skills", text: `'${item}': write skill=proficiency, such as billing=80` });
        return;
      }
      parsed[k] = n;
    }
    void run(() =>
      session.api.call("AdminService", "UpsertAgent", {
        agent: { ...(a ?? {}), tenant_id: session.tenant, agent_id: id, display_name: name, teams_user_id: teams, skills: parsed, queue_ids: member },
      }),
    );
  };
  return (
    <form class="card admin-form" onSubmit={save} data-testid="agent-form">
      <h2>{a ? `Agent ${a.agent_id}` : "New agent"}</h2>
      <label>
        Agent id <input value={id} onInput={text(setId)} disabled={!!a} />
        <FieldError error={error} field="agent.agent_id" />
      </label>
      <label>
        Name <input value={name} onInput={text(setName)} />
      </label>
      <label>
        Teams user id (Entra object id) <input value={teams} onInput={text(setTeams)} />
        <FieldError error={error} field="agent.teams_user_id" />
      </label>
      <label>
        Skills <input value={skills} onInput={text(setSkills)} placeholder="billing=80, spanish=60" />
        <FieldError error={error} field="agent.skills" />
      </label>
      <fieldset>
        <legend>Queues</legend>
        {queues.map((q) => (
          <label class="check">
            <input
              type="checkbox"
              checked={member.includes(q.queue_id)}
              onChange={(e) =>
                setMember((e.target as HTMLInputElement).checked ? [...member, q.queue_id] : member.filter((x) => x !== q.queue_id))
              }
            />{" "}
            {q.queue_id}
          </label>
        ))}
        <FieldError error={error} field="agent.queue_ids" />
      </fieldset>
      <FormEnd error={error} saved={saved} />
    </form>
  );
}

export function Admin({ session }: { session: Session }) {
  const [queues, setQueues] = useState<Json[]>([]);
  const [agents, setAgents] = useState<Json[]>([]);
  const [editing, setEditing] = useState<string>("");
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
  const queue = queues.find((q) => `queue:${q.queue_id}` === editing);
  const agent = agents.find((a) => `agent:${a.agent.agent_id}` === editing);
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
                <span class="muted">{q.display_name}</span>
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
      </div>
      {editing.startsWith("queue:") && <QueueForm key={editing} session={session} queue={queue} onSaved={load} />}
      {editing.startsWith("agent:") && <AgentForm key={editing} session={session} agent={agent} queues={queues} onSaved={load} />}
      <p class="muted">Classification rules and business hours are set with the CLI (switchboard apply -f) for now.</p>
    </main>
  );
}
