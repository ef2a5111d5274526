// An agent's form: name, Teams user, skills with proficiency, labels and
// the queues it works in. Fields the form does not show (capacity, SIP
// address) are kept as read.

import { useState } from "preact/hooks";
import type { Json } from "../api";
import type { Session } from "../main";
import { FieldError, FormEnd, FormProblem, Problem, integerOf, text, useSave } from "./form";

const places = ["agent.agent_id", "agent.display_name", "agent.teams_user_id", "agent.skills", "agent.labels", "agent.queue_ids"];

interface Pair {
  name: string;
  value: string;
}

const pairsOf = (map: Record<string, unknown> | undefined): Pair[] =>
  Object.entries(map ?? {}).map(([name, value]) => ({ name, value: String(value) }));

/// Rows of a map field ("agent.skills"): the router names an entry by its
/// key ("agent.skills[billing]").
function PairFields({
  legend,
  field,
  rows,
  onChange,
  error,
  nameLabel,
  valueLabel,
  placeholder,
}: {
  legend: string;
  field: string;
  rows: Pair[];
  onChange: (rows: Pair[]) => void;
  error?: Problem;
  nameLabel: string;
  valueLabel: string;
  placeholder: Pair;
}) {
  const set = (i: number, patch: Partial<Pair>) => onChange(rows.map((r, j) => (j === i ? { ...r, ...patch } : r)));
  return (
    <fieldset data-testid={field}>
      <legend>{legend}</legend>
      {rows.map((r, i) => (
        <div class="pair" data-testid={`${field}-${i}`}>
          <label>
            {nameLabel}
            <input value={r.name} placeholder={placeholder.name} onInput={text((name) => set(i, { name }))} />
          </label>
          <label>
            {valueLabel}
            <input value={r.value} placeholder={placeholder.value} onInput={text((value) => set(i, { value }))} />
          </label>
          <button type="button" onClick={() => onChange(rows.filter((_, j) => j !== i))}>
            Remove
          </button>
          <FieldError error={error} field={`${field}[${r.name.trim()}]`} />
        </div>
      ))}
      <div class="actions">
        <button type="button" onClick={() => onChange([...rows, { name: "", value: "" }])}>
          Add {nameLabel.toLowerCase()}
        </button>
      </div>
      <FieldError error={error} field={field} exact />
    </fieldset>
  );
}

/// The rows as a map; a name given twice is the form's own error.
function mapOf<T>(rows: Pair[], field: string, value: (p: Pair, at: string) => T): Record<string, T> {
  const out: Record<string, T> = {};
  for (const r of rows) {
    const name = r.name.trim();
    const at = `${field}[${name}]`;
    if (name in out) throw new FormProblem(at, `'${name}' is listed twice`);
    out[name] = value(r, at);
  }
  return out;
}

export function AgentForm({ session, agent, queues, onSaved }: { session: Session; agent?: Json; queues: string[]; onSaved: () => void }) {
  const a = agent?.agent;
  const [id, setId] = useState(a?.agent_id ?? "");
  const [name, setName] = useState(a?.display_name ?? "");
  const [teams, setTeams] = useState(a?.teams_user_id ?? "");
  const [skills, setSkills] = useState(pairsOf(a?.skills));
  const [labels, setLabels] = useState(pairsOf(a?.labels));
  const [member, setMember] = useState<string[]>(a?.queue_ids ?? []);
  const { error, saved, save: run } = useSave(onSaved);
  const save = (e: Event) => {
    e.preventDefault();
    void run(async () =>
      session.api.call("AdminService", "UpsertAgent", {
        agent: {
          ...(a ?? {}),
          tenant_id: session.tenant,
          agent_id: id,
          display_name: name,
          teams_user_id: teams,
          skills: mapOf(skills, "agent.skills", (p, at) => integerOf(p.value, at)),
          labels: mapOf(labels, "agent.labels", (p) => p.value.trim()),
          queue_ids: member,
        },
      }),
    );
  };
  return (
    <form class="card admin-form" onSubmit={save} data-testid="agent-form">
      <h2>{a ? `Agent ${a.agent_id}` : "New agent"}</h2>
      <div class="row">
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
      </div>
      <PairFields
        legend="Skills (proficiency 0..100; selectors name them skill.NAME)"
        field="agent.skills"
        rows={skills}
        onChange={setSkills}
        error={error}
        nameLabel="Skill"
        valueLabel="Proficiency"
        placeholder={{ name: "billing", value: "80" }}
      />
      <PairFields
        legend="Labels (selectors name them label.NAME)"
        field="agent.labels"
        rows={labels}
        onChange={setLabels}
        error={error}
        nameLabel="Label"
        valueLabel="Value"
        placeholder={{ name: "tier", value: "senior" }}
      />
      <fieldset>
        <legend>Queues</legend>
        <div class="checks">
          {queues.map((q) => (
            <label class="check">
              <input
                type="checkbox"
                checked={member.includes(q)}
                onChange={(e) => setMember((e.target as HTMLInputElement).checked ? [...member, q] : member.filter((x) => x !== q))}
              />
              {q}
            </label>
          ))}
        </div>
        <FieldError error={error} field="agent.queue_ids" />
      </fieldset>
      <FormEnd error={error} saved={saved} places={places} />
    </form>
  );
}
