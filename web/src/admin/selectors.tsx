// Selectors (requirements on an agent, "skill.billing >= 60"), edited as
// rows: a queue's and a classification rule's.

import type { Json } from "../api";
import { seconds } from "../api";
import { FieldError, Problem, durationOf, listOf } from "./form";

const ops = ["EQ", "NE", "GT", "GE", "LT", "LE", "EXISTS", "IN"];

export interface SelectorRow {
  key: string;
  op: string;
  values: string;
  relaxAfter: string;
}

export function selectorRows(selectors: Json[] | undefined): SelectorRow[] {
  return (selectors ?? []).map((s) => ({
    key: s.key ?? "",
    op: (s.op ?? "SELECTOR_OP_EQ").replace("SELECTOR_OP_", ""),
    values: (s.values ?? []).join(", "),
    relaxAfter: s.relax_after ? String(seconds(s.relax_after)) : "",
  }));
}

/// The rows as the API's selectors; `field` is where they are
/// ("queue.selectors").
export function selectorsOf(rows: SelectorRow[], field: string): Json[] {
  return rows.map((s, i) => ({
    key: s.key.trim(),
    op: `SELECTOR_OP_${s.op}`,
    values: listOf(s.values),
    relax_after: durationOf(s.relaxAfter, `${field}[${i}].relax_after`),
  }));
}

/// `field` is the selectors' path in the request ("queue.selectors",
/// "rules[2].selectors"), for placing the router's errors.
export function SelectorFields({
  rows,
  onChange,
  error,
  field,
  legend,
}: {
  rows: SelectorRow[];
  onChange: (rows: SelectorRow[]) => void;
  error?: Problem;
  field: string;
  legend: string;
}) {
  return (
    <fieldset>
      <legend>{legend}</legend>
      {rows.map((s, i) => {
        const set = (patch: Partial<SelectorRow>) => onChange(rows.map((x, j) => (j === i ? { ...x, ...patch } : x)));
        const at = `${field}[${i}]`;
        return (
          <div class="selector" data-testid={`selector-${i}`}>
            <label>
              Key
              <input value={s.key} placeholder="skill.billing" onInput={(e) => set({ key: (e.target as HTMLInputElement).value })} />
              <FieldError error={error} field={`${at}.key`} />
            </label>
            <label>
              Op
              <select value={s.op} onChange={(e) => set({ op: (e.target as HTMLSelectElement).value })}>
                {ops.map((o) => (
                  <option>{o}</option>
                ))}
              </select>
              <FieldError error={error} field={`${at}.op`} />
            </label>
            <label>
              Values
              <input value={s.values} placeholder="60" onInput={(e) => set({ values: (e.target as HTMLInputElement).value })} />
              <FieldError error={error} field={`${at}.values`} />
            </label>
            <label>
              Relax after (s)
              <input
                value={s.relaxAfter}
                inputMode="numeric"
                placeholder="never"
                onInput={(e) => set({ relaxAfter: (e.target as HTMLInputElement).value })}
              />
              <FieldError error={error} field={`${at}.relax_after`} />
            </label>
            <button type="button" onClick={() => onChange(rows.filter((_, j) => j !== i))}>
              Remove
            </button>
            <FieldError error={error} field={at} exact />
          </div>
        );
      })}
      <button type="button" onClick={() => onChange([...rows, { key: "", op: "GE", values: "", relaxAfter: "" }])}>
        Add selector
      </button>
      <FieldError error={error} field={field} exact />
    </fieldset>
  );
}
