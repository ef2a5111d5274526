// What every admin form shares: the router's refusal placed beside the
// field it names, saving, and reading numbers and durations out of inputs.

import { useState } from "preact/hooks";
import { ApiError } from "../api";

/// A message about one field of a request: `field` is the router's path
/// ("queue.hours.open[0].to"), empty when the message names none.
export interface Problem {
  field: string;
  text: string;
}

/// "queue.selectors[0].key: expected ..." split into the field path and
/// the message; a message without a path stays whole. A map's entry is
/// named by its key ("agent.skills[billing]").
export function fieldOf(message: string): Problem {
  const m = /^([a-z_]+(?:\[[^\]\s]+\])?(?:\.[a-z_]+(?:\[[^\]\s]+\])?)*): (.*)$/s.exec(message);
  return m ? { field: m[1], text: m[2] } : { field: "", text: message };
}

/// Whether `path` is `field` or lies inside it (`field.x`, `field[2]`).
export function within(path: string, field: string): boolean {
  return path === field || path.startsWith(field + ".") || path.startsWith(field + "[");
}

/// A problem the form finds before asking the router (a number that is
/// none), thrown while the request is built.
export class FormProblem extends Error {
  constructor(
    readonly field: string,
    text: string,
  ) {
    super(text);
  }
}

/// A field's error, shown beside it when the router named it (or, unless
/// `exact`, a field inside it).
export function FieldError({ error, field, exact = false }: { error?: Problem; field: string; exact?: boolean }) {
  if (!error?.field) return null;
  if (exact ? error.field !== field : !within(error.field, field)) return null;
  return (
    <span class="field-error" role="alert" data-testid={`error-${field}`}>
      {error.text}
    </span>
  );
}

/// An input's or select's text into `set`.
export const text = (set: (v: string) => void) => (e: Event) => set((e.target as HTMLInputElement).value);

/// Whole seconds typed into an input as a protobuf Duration ("20s");
/// empty is unset.
export function durationOf(input: string, field: string): string | undefined {
  const s = input.trim();
  if (s === "") return undefined;
  if (!/^\d+(\.\d+)?$/.test(s)) throw new FormProblem(field, `expected seconds, such as 20, found '${s}'`);
  return `${s}s`;
}

/// A whole number typed into an input; empty is 0 (proto3's unset).
export function integerOf(input: string, field: string): number {
  const s = input.trim();
  if (s === "") return 0;
  if (!/^-?\d+$/.test(s)) throw new FormProblem(field, `expected a whole number, found '${s}'`);
  return Number(s);
}

/// "a, b ,c" as ["a", "b", "c"].
export function listOf(input: string): string[] {
  return input
    .split(",")
    .map((v) => v.trim())
    .filter((v) => v !== "");
}

/// Saving a form: builds and runs the upsert, then keeps the refusal
/// (the form's own or the router's, placed by the field its message
/// names) or says it was saved.
export function useSave<T>(onSaved: (saved: T) => void) {
  const [error, setError] = useState<Problem>();
  const [saved, setSaved] = useState(false);
  const save = async (upsert: () => Promise<T>) => {
    setSaved(false);
    try {
      const result = await upsert();
      setError(undefined);
      setSaved(true);
      onSaved(result);
    } catch (x) {
      if (x instanceof ApiError) setError(fieldOf(x.message));
      else if (x instanceof FormProblem) setError({ field: x.field, text: x.message });
      else setError({ field: "", text: String(x) });
    }
  };
  return { error, setError, saved, setSaved, save };
}

/// A form's end: an error no field of the form shows (`places` says which
/// fields it shows), Save, and "Saved.".
export function FormEnd({ error, saved, places }: { error?: Problem; saved: boolean; places: string[] }) {
  const placed = !!error?.field && places.some((p) => within(error.field, p));
  return (
    <>
      {error && !placed && (
        <p class="error" role="alert">
          {error.field ? `${error.field}: ${error.text}` : error.text}
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

/// The tenant's queue ids as suggestions for a queue input (`list` attribute).
export function QueueChoices({ id, queues }: { id: string; queues: string[] }) {
  return (
    <datalist id={id}>
      {queues.map((q) => (
        <option value={q} />
      ))}
    </datalist>
  );
}
