// The tenant's classification rules: an ordered list (the first rule whose
// conditions all hold picks a new call's queue) and the default queue for
// calls that match none. Saved whole (UpsertClassificationRules).

import { useEffect, useState } from "preact/hooks";
import type { Json } from "../api";
import { ApiError } from "../api";
import type { Session } from "../main";
import { FieldError, FormEnd, Problem, QueueChoices, integerOf, listOf, text, useSave } from "./form";
import { SelectorFields, SelectorRow, selectorRows, selectorsOf } from "./selectors";

const matches = ["EQUALS", "PREFIX", "IN"];
const fields = [
  { value: "attribute", label: "attribute" },
  { value: "from", label: "caller (from)" },
  { value: "to", label: "dialled (to)" },
  { value: "channel", label: "channel" },
];

interface ConditionRow {
  field: string; // to, from, channel or attribute
  attribute: string; // NAME of attribute.NAME
  match: string;
  values: string;
}

interface RuleRow {
  key: number; // stays with the rule as it moves
  id: string;
  conditions: ConditionRow[];
  queue: string;
  priority: string;
  selectors: SelectorRow[];
}

let nextKey = 1;

function ruleRows(rules: Json[] | undefined): RuleRow[] {
  return (rules ?? []).map((r) => ({
    key: nextKey++,
    id: r.rule_id ?? "",
    conditions: (r.conditions ?? []).map((c: Json) => {
      const f: string = c.field ?? "";
      const attribute = f.startsWith("attribute.");
      return {
        field: attribute ? "attribute" : f,
        attribute: attribute ? f.slice("attribute.".length) : "",
        match: (c.match ?? "MATCH_EQUALS").replace("MATCH_", ""),
        values: (c.values ?? []).join(", "),
      };
    }),
    queue: r.queue_id ?? "",
    priority: r.priority ? String(r.priority) : "",
    selectors: selectorRows(r.selectors),
  }));
}

function rulesOf(rows: RuleRow[]): Json[] {
  return rows.map((r, i) => ({
    rule_id: r.id.trim(),
    conditions: r.conditions.map((c) => ({
      field: c.field === "attribute" ? `attribute.${c.attribute.trim()}` : c.field,
      match: `MATCH_${c.match}`,
      values: listOf(c.values),
    })),
    queue_id: r.queue.trim(),
    priority: integerOf(r.priority, `rules[${i}].priority`),
    selectors: selectorsOf(r.selectors, `rules[${i}].selectors`),
  }));
}

function ConditionFields({
  row,
  onChange,
  onRemove,
  error,
  field,
  index,
}: {
  row: ConditionRow;
  onChange: (c: ConditionRow) => void;
  onRemove: () => void;
  error?: Problem;
  field: string;
  index: number;
}) {
  const set = (patch: Partial<ConditionRow>) => onChange({ ...row, ...patch });
  return (
    <div class="condition" data-testid={`condition-${index}`}>
      <label>
        Field
        <select value={row.field} onChange={text((f) => set({ field: f }))}>
          {fields.map((f) => (
            <option value={f.value}>{f.label}</option>
          ))}
        </select>
        <FieldError error={error} field={`${field}.field`} />
      </label>
      {row.field === "attribute" && (
        <label>
          Attribute name
          <input value={row.attribute} onInput={text((attribute) => set({ attribute }))} placeholder="language" />
        </label>
      )}
      <label>
        Match
        <select value={row.match} onChange={text((match) => set({ match }))}>
          {matches.map((m) => (
            <option value={m}>{m.toLowerCase()}</option>
          ))}
        </select>
        <FieldError error={error} field={`${field}.match`} />
      </label>
      <label>
        Values
        <input
          value={row.values}
          onInput={text((values) => set({ values }))}
          placeholder={row.field === "channel" ? "voice" : row.match === "IN" ? "1, sales" : "es"}
        />
        <FieldError error={error} field={`${field}.values`} />
      </label>
      <button type="button" onClick={onRemove}>
        Remove
      </button>
      <FieldError error={error} field={field} exact />
    </div>
  );
}

function RuleFields({
  rule,
  index,
  count,
  onChange,
  onMove,
  onRemove,
  error,
}: {
  rule: RuleRow;
  index: number;
  count: number;
  onChange: (r: RuleRow) => void;
  onMove: (by: number) => void;
  onRemove: () => void;
  error?: Problem;
}) {
  const set = (patch: Partial<RuleRow>) => onChange({ ...rule, ...patch });
  const at = `rules[${index}]`;
  return (
    <li class="rule" data-testid={`rule-${index}`} aria-label={`Rule ${index + 1}: ${rule.id}`}>
      <div class="rule-head">
        <span class="rule-number">{index + 1}.</span>
        <label>
          Rule id <input value={rule.id} onInput={text((id) => set({ id }))} />
          <FieldError error={error} field={`${at}.rule_id`} />
        </label>
        <div class="actions">
          <button type="button" onClick={() => onMove(-1)} disabled={index === 0} aria-label={`Move ${rule.id || "rule"} up`}>
            Up
          </button>
          <button type="button" onClick={() => onMove(1)} disabled={index === count - 1} aria-label={`Move ${rule.id || "rule"} down`}>
            Down
          </button>
          <button type="button" onClick={onRemove}>
            Remove
          </button>
        </div>
      </div>
      <FieldError error={error} field={at} exact />
      <fieldset>
        <legend>When all of these hold (none: every call)</legend>
        {rule.conditions.map((c, j) => (
          <ConditionFields
            row={c}
            index={j}
            field={`${at}.conditions[${j}]`}
            error={error}
            onChange={(x) => set({ conditions: rule.conditions.map((y, k) => (k === j ? x : y)) })}
            onRemove={() => set({ conditions: rule.conditions.filter((_, k) => k !== j) })}
          />
        ))}
        <div class="actions">
          <button
            type="button"
            onClick={() => set({ conditions: [...rule.conditions, { field: "attribute", attribute: "", match: "EQUALS", values: "" }] })}
          >
            Add condition
          </button>
        </div>
        <FieldError error={error} field={`${at}.conditions`} exact />
      </fieldset>
      <div class="row">
        <label>
          Queue <input value={rule.queue} onInput={text((queue) => set({ queue }))} list="rule-queues" />
          <FieldError error={error} field={`${at}.queue_id`} />
        </label>
        <label>
          Priority (higher first) <input value={rule.priority} onInput={text((priority) => set({ priority }))} inputMode="numeric" placeholder="0" />
          <FieldError error={error} field={`${at}.priority`} />
        </label>
      </div>
      <SelectorFields
        rows={rule.selectors}
        onChange={(selectors) => set({ selectors })}
        error={error}
        field={`${at}.selectors`}
        legend="Selectors the call adds (its agent must match them too)"
      />
    </li>
  );
}

export function RulesForm({ session, queues, onSaved }: { session: Session; queues: string[]; onSaved: () => void }) {
  const [rules, setRules] = useState<RuleRow[]>([]);
  const [defaultQueue, setDefaultQueue] = useState("");
  const [loaded, setLoaded] = useState<string>();
  const show = (r: Json) => {
    setRules(ruleRows(r.rules));
    setDefaultQueue(r.default_queue_id ?? "");
  };
  const { error, setError, saved, setSaved, save: run } = useSave<Json>((r) => {
    show(r);
    onSaved();
  });
  useEffect(() => {
    session.api.call("AdminService", "GetClassificationRules", { tenant_id: session.tenant }).then(
      (r) => {
        show(r);
        setLoaded("yes");
      },
      (e) => {
        // A router older than GetClassificationRules: Save still works, but
        // replaces rules the form could not show.
        if (e instanceof ApiError && e.status === 404 && e.message.startsWith("no method")) setLoaded("unreadable");
        else setLoaded(e instanceof ApiError ? e.message : String(e));
      },
    );
  }, [session.tenant]);
  // The router's errors name rules by position: once the list changes
  // shape they would name the wrong one.
  const reshape = (next: RuleRow[]) => {
    setRules(next);
    setError(undefined);
    setSaved(false);
  };
  const move = (i: number, by: number) => {
    const next = rules.slice();
    const [r] = next.splice(i, 1);
    next.splice(i + by, 0, r);
    reshape(next);
  };
  const save = (e: Event) => {
    e.preventDefault();
    void run(() =>
      session.api.call("AdminService", "UpsertClassificationRules", {
        tenant_id: session.tenant,
        rules: rulesOf(rules),
        default_queue_id: defaultQueue.trim(),
      }),
    );
  };
  return (
    <form class="card admin-form" onSubmit={save} data-testid="rules-form">
      <h2>Classification rules</h2>
      <p class="muted">
        A call submitted without a queue goes to the queue of the first rule whose conditions all hold; a call that matches none goes
        to the default queue.
      </p>
      {loaded === undefined && <p class="muted">Reading the rules…</p>}
      {loaded === "unreadable" && (
        <p class="error" role="status">
          This router cannot show its rules (it has no GetClassificationRules yet): saving replaces them with the ones below.
        </p>
      )}
      {loaded !== undefined && loaded !== "yes" && loaded !== "unreadable" && (
        <p class="error" role="alert">
          {loaded}
        </p>
      )}
      <QueueChoices id="rule-queues" queues={queues} />
      <ol class="rules">
        {rules.map((r, i) => (
          <RuleFields
            key={r.key}
            rule={r}
            index={i}
            count={rules.length}
            error={error}
            onChange={(x) => setRules(rules.map((y, j) => (j === i ? x : y)))}
            onMove={(by) => move(i, by)}
            onRemove={() => reshape(rules.filter((_, j) => j !== i))}
          />
        ))}
      </ol>
      <div class="actions">
        <button
          type="button"
          onClick={() =>
            reshape([
              ...rules,
              {
                key: nextKey++,
                id: `rule-${rules.length + 1}`,
                conditions: [{ field: "attribute", attribute: "", match: "EQUALS", values: "" }],
                queue: "",
                priority: "",
                selectors: [],
              },
            ])
          }
        >
          Add rule
        </button>
      </div>
      <FieldError error={error} field="rules" exact />
      <label>
        Default queue (empty: calls that match no rule are refused)
        <input value={defaultQueue} onInput={text(setDefaultQueue)} list="rule-queues" />
        <FieldError error={error} field="default_queue_id" />
      </label>
      <FormEnd error={error} saved={saved} places={["rules", "default_queue_id"]} />
    </form>
  );
}
