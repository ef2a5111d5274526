// An agent's form: name, Teams user, skills with proficiency and the
// queues it works in. Fields the form does not show (labels, capacity,
// SIP address) are kept as read.

import { useState } from "preact/hooks";
import type { Json } from "../api";
import type { Session } from "../main";
import { FieldError, FormEnd, FormProblem, listOf, text, useSave } from "./form";

const places = ["agent.agent_id", "agent.display_name", "agent.teams_user_id", "agent.skills", "agent.queue_ids"];

export function AgentForm({ session, agent, queues, onSaved }: { session: Session; agent?: Json; queues: string[]; onSaved: () => void }) {
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
  const { error, saved, save: run } = useSave(onSaved);
  const save = (e: Event) => {
    e.preventDefault();
    void run(async () => {
      const parsed: Record<string, number> = {};
      for (const item of listOf(skills)) {
        const [k, v] = item.split("=").map((s) => s.trim());
        const n = Number(v);
        if (!k || !Number.isInteger(n)) throw new FormProblem("agent.skills", `'${item}': write skill=proficiency, such as billing=80`);
        parsed[k] = n;
      }
      return session.api.call("AdminService", "UpsertAgent", {
        agent: { ...(a ?? {}), tenant_id: session.tenant, agent_id: id, display_name: name, teams_user_id: teams, skills: parsed, queue_ids: member },
      });
    });
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
        <FieldError error={error} field="agent.display_name" />
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
              checked={member.includes(q)}
              onChange={(e) => setMember((e.target as HTMLInputElement).checked ? [...member, q] : member.filter((x) => x !== q))}
            />{" "}
            {q}
          </label>
        ))}
        <FieldError error={error} field="agent.queue_ids" />
      </fieldset>
      <FormEnd error={error} saved={saved} places={places} />
    </form>
  );
}
