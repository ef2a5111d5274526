// A queue's business hours (weekly hours in a time zone, less holidays)
// and the limits' actions (what the queue does with a call it cannot keep
// in its line), edited as parts of the queue's form.

import type { ComponentChildren } from "preact";
import type { Json } from "../api";
import { FieldError, Problem, QueueChoices, text } from "./form";

export const days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

export interface OpenRow {
  days: string[];
  from: string;
  to: string;
}

export interface HoursModel {
  enabled: boolean;
  zone: string;
  open: OpenRow[];
  holidays: string[];
}

/// The browser's own time zone, the likeliest for a new queue.
const here = Intl.DateTimeFormat().resolvedOptions().timeZone ?? "";

export function hoursModel(hours: Json | undefined): HoursModel {
  if (!hours) return { enabled: false, zone: here, open: [{ days: days.slice(0, 5), from: "09:00", to: "17:00" }], holidays: [] };
  return {
    enabled: true,
    zone: hours.time_zone ?? "",
    open: (hours.open ?? []).map((o: Json) => ({ days: o.days ?? [], from: o.from ?? "", to: o.to ?? "" })),
    holidays: hours.holidays ?? [],
  };
}

/// The API's BusinessHours, or unset (always open).
export function hoursOf(m: HoursModel): Json | undefined {
  if (!m.enabled) return undefined;
  return {
    time_zone: m.zone.trim(),
    open: m.open.map((o) => ({ days: days.filter((d) => o.days.includes(d)), from: o.from.trim(), to: o.to.trim() })),
    holidays: m.holidays.map((d) => d.trim()),
  };
}

/// The IANA zones the browser knows, as suggestions (the router decides).
const zones: string[] = (Intl as any).supportedValuesOf?.("timeZone") ?? [];

export function HoursFields({
  model,
  onChange,
  error,
  children,
}: {
  model: HoursModel;
  onChange: (m: HoursModel) => void;
  error?: Problem;
  children?: ComponentChildren;
}) {
  const set = (patch: Partial<HoursModel>) => onChange({ ...model, ...patch });
  const setOpen = (i: number, patch: Partial<OpenRow>) => set({ open: model.open.map((o, j) => (j === i ? { ...o, ...patch } : o)) });
  const f = "queue.hours";
  return (
    <fieldset data-testid="hours">
      <legend>Business hours</legend>
      <label class="check">
        <input type="checkbox" checked={model.enabled} onChange={(e) => set({ enabled: (e.target as HTMLInputElement).checked })} /> Open
        only during business hours (otherwise always open)
      </label>
      <FieldError error={error} field={f} exact />
      {model.enabled && (
        <>
          <label>
            Time zone
            <input value={model.zone} onInput={text((zone) => set({ zone }))} list="time-zones" placeholder="Europe/London" />
            <datalist id="time-zones">
              {zones.map((z) => (
                <option value={z} />
              ))}
            </datalist>
            <FieldError error={error} field={`${f}.time_zone`} />
          </label>
          {model.open.map((o, i) => {
            const at = `${f}.open[${i}]`;
            return (
              <div class="open-hours" data-testid={`open-${i}`}>
                <div class="days" role="group" aria-label="Days">
                  {days.map((d) => (
                    <label class="check">
                      <input
                        type="checkbox"
                        checked={o.days.includes(d)}
                        onChange={(e) =>
                          setOpen(i, { days: (e.target as HTMLInputElement).checked ? [...o.days, d] : o.days.filter((x) => x !== d) })
                        }
                      />
                      {d}
                    </label>
                  ))}
                  <FieldError error={error} field={`${at}.days`} />
                </div>
                <label>
                  From
                  <input value={o.from} onInput={text((from) => setOpen(i, { from }))} placeholder="09:00" size={5} />
                  <FieldError error={error} field={`${at}.from`} />
                </label>
                <label>
                  To
                  <input value={o.to} onInput={text((to) => setOpen(i, { to }))} placeholder="17:00" size={5} />
                  <FieldError error={error} field={`${at}.to`} />
                </label>
                <button type="button" onClick={() => set({ open: model.open.filter((_, j) => j !== i) })}>
                  Remove
                </button>
                <FieldError error={error} field={at} exact />
              </div>
            );
          })}
          <div class="actions">
            <button type="button" onClick={() => set({ open: [...model.open, { days: ["sat"], from: "10:00", to: "14:00" }] })}>
              Add hours
            </button>
          </div>
          <FieldError error={error} field={`${f}.open`} exact />
          <div class="holidays" role="group" aria-label="Holidays">
            <span class="muted">Holidays (closed all day, in the queue's time zone)</span>
            {model.holidays.map((d, i) => (
              <div class="holiday" data-testid={`holiday-${i}`}>
                <label>
                  Holiday
                  <input
                    type="date"
                    value={d}
                    onInput={text((v) => set({ holidays: model.holidays.map((x, j) => (j === i ? v : x)) }))}
                  />
                  <FieldError error={error} field={`${f}.holidays[${i}]`} />
                </label>
                <button type="button" onClick={() => set({ holidays: model.holidays.filter((_, j) => j !== i) })}>
                  Remove
                </button>
              </div>
            ))}
            <div class="actions">
              <button type="button" onClick={() => set({ holidays: [...model.holidays, ""] })}>
                Add holiday
              </button>
            </div>
            <FieldError error={error} field={`${f}.holidays`} exact />
          </div>
        </>
      )}
      {children}
    </fieldset>
  );
}

// -- limit actions -------------------------------------------------------------

export interface ActionModel {
  kind: string; // "", OVERFLOW, DISCONNECT, CALLBACK
  queue: string;
  announcement: string;
}

export function actionModel(a: Json | undefined): ActionModel {
  const kind = (a?.kind ?? "").replace("KIND_", "");
  return { kind: kind === "UNSPECIFIED" ? "" : kind, queue: a?.queue_id ?? "", announcement: a?.announcement ?? "" };
}

/// The API's LimitAction, or unset (the limit's default).
export function actionOf(m: ActionModel): Json | undefined {
  if (!m.kind) return undefined;
  return { kind: `KIND_${m.kind}`, queue_id: m.kind === "OVERFLOW" ? m.queue.trim() : "", announcement: m.announcement.trim() };
}

/// One limit's action: `field` is its name in the queue ("when_closed"),
/// `unset` what the queue does without one.
export function ActionFields({
  label,
  field,
  unset,
  model,
  onChange,
  error,
  queues,
}: {
  label: string;
  field: string;
  unset: string;
  model: ActionModel;
  onChange: (m: ActionModel) => void;
  error?: Problem;
  queues: string[];
}) {
  const set = (patch: Partial<ActionModel>) => onChange({ ...model, ...patch });
  const at = `queue.${field}`;
  return (
    <div class="limit-action" data-testid={field}>
      <label>
        {label}
        <select value={model.kind} onChange={text((kind) => set({ kind }))}>
          <option value="">{unset}</option>
          <option value="OVERFLOW">move the call to another queue</option>
          <option value="DISCONNECT">disconnect</option>
          <option value="CALLBACK">call the caller back</option>
        </select>
        <FieldError error={error} field={`${at}.kind`} />
        <FieldError error={error} field={at} exact />
      </label>
      {model.kind === "OVERFLOW" && (
        <label>
          To queue
          <input value={model.queue} onInput={text((queue) => set({ queue }))} list={`queues-${field}`} />
          <QueueChoices id={`queues-${field}`} queues={queues} />
          <FieldError error={error} field={`${at}.queue_id`} />
        </label>
      )}
      {model.kind && (
        <label>
          Announcement (prompt id)
          <input value={model.announcement} onInput={text((announcement) => set({ announcement }))} placeholder="none" />
          <FieldError error={error} field={`${at}.announcement`} />
        </label>
      )}
    </div>
  );
}
