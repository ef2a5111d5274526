// A queue's form: distribution, selectors, timers, limits and their
// actions, business hours and priority aging. Fields the form does not
// show (stepwise relaxation, routable presences, ...) are kept as read.

import { useState } from "preact/hooks";
import type { Json } from "../api";
import { seconds } from "../api";
import type { Session } from "../main";
import { FieldError, FormEnd, QueueChoices, durationOf, integerOf, text, useSave } from "./form";
import { ActionFields, HoursFields, actionModel, actionOf, hoursModel, hoursOf } from "./hours";
import { SelectorFields, selectorRows, selectorsOf } from "./selectors";

const modes = ["LONGEST_IDLE", "ROUND_ROBIN", "BEST_SKILL"];

/// The fields of the queue the form shows errors beside; the router's
/// other errors are shown at the form's end.
const places = [
  "queue.queue_id",
  "queue.display_name",
  "queue.mode",
  "queue.selectors",
  "queue.offer_timeout",
  "queue.wrap_up",
  "queue.max_length",
  "queue.max_wait",
  "queue.overflow_queue_id",
  "queue.service_level_threshold",
  "queue.service_level_target_percent",
  "queue.when_full",
  "queue.when_max_wait",
  "queue.when_no_agents",
  "queue.when_closed",
  "queue.hours",
  "queue.priority_aging",
];

/// Seconds of a Duration for an input; empty when unset.
const secondsText = (d: string | undefined) => (d ? String(seconds(d)) : "");
const numberText = (n: number | undefined) => (n ? String(n) : "");

export function QueueForm({
  session,
  queue,
  queues,
  onSaved,
}: {
  session: Session;
  queue?: Json;
  queues: string[];
  onSaved: () => void;
}) {
  const [id, setId] = useState(queue?.queue_id ?? "");
  const [name, setName] = useState(queue?.display_name ?? "");
  const [mode, setMode] = useState((queue?.mode ?? "DISTRIBUTION_MODE_LONGEST_IDLE").replace("DISTRIBUTION_MODE_", "") || "LONGEST_IDLE");
  const [selectors, setSelectors] = useState(selectorRows(queue?.selectors));
  const [offer, setOffer] = useState(String(seconds(queue?.offer_timeout) || 20));
  const [wrap, setWrap] = useState(String(seconds(queue?.wrap_up) || 0));
  const [maxLength, setMaxLength] = useState(numberText(queue?.max_length));
  const [maxWait, setMaxWait] = useState(secondsText(queue?.max_wait));
  const [overflow, setOverflow] = useState(queue?.overflow_queue_id ?? "");
  const [slThreshold, setSlThreshold] = useState(secondsText(queue?.service_level_threshold));
  const [slTarget, setSlTarget] = useState(numberText(queue?.service_level_target_percent));
  const [whenFull, setWhenFull] = useState(actionModel(queue?.when_full));
  const [whenMaxWait, setWhenMaxWait] = useState(actionModel(queue?.when_max_wait));
  const [whenNoAgents, setWhenNoAgents] = useState(actionModel(queue?.when_no_agents));
  const [whenClosed, setWhenClosed] = useState(actionModel(queue?.when_closed));
  const [hours, setHours] = useState(hoursModel(queue?.hours));
  const aging = queue?.priority_aging;
  const [agingEvery, setAgingEvery] = useState(secondsText(aging?.interval));
  const [agingStep, setAgingStep] = useState(numberText(aging?.step));
  const [agingMax, setAgingMax] = useState(numberText(aging?.max_boost));
  const { error, saved, save: run } = useSave(onSaved);
  const others = queues.filter((q) => q !== id);
  const save = (e: Event) => {
    e.preventDefault();
    void run(async () => {
      // Built field by field over the queue as read, so that what the form
      // does not show stays; an unset field is left out (JSON drops undefined).
      const request = {
        ...(queue ?? {}),
        tenant_id: session.tenant,
        queue_id: id.trim(),
        display_name: name,
        mode: `DISTRIBUTION_MODE_${mode}`,
        selectors: selectorsOf(selectors, "queue.selectors"),
        offer_timeout: durationOf(offer, "queue.offer_timeout"),
        wrap_up: durationOf(wrap, "queue.wrap_up"),
        max_length: integerOf(maxLength, "queue.max_length"),
        max_wait: durationOf(maxWait, "queue.max_wait"),
        overflow_queue_id: overflow.trim(),
        service_level_threshold: durationOf(slThreshold, "queue.service_level_threshold"),
        service_level_target_percent: integerOf(slTarget, "queue.service_level_target_percent"),
        when_full: actionOf(whenFull),
        when_max_wait: actionOf(whenMaxWait),
        when_no_agents: actionOf(whenNoAgents),
        when_closed: actionOf(whenClosed),
        hours: hoursOf(hours),
        priority_aging:
          agingEvery.trim() === ""
            ? undefined
            : {
                interval: durationOf(agingEvery, "queue.priority_aging.interval"),
                step: integerOf(agingStep, "queue.priority_aging.step"),
                max_boost: integerOf(agingMax, "queue.priority_aging.max_boost"),
              },
      };
      return session.api.call("AdminService", "UpsertQueue", { queue: request });
    });
  };
  const actionProps = { error, queues: others };
  return (
    <form class="card admin-form" onSubmit={save} data-testid="queue-form">
      <h2>{queue ? `Queue ${queue.queue_id}` : "New queue"}</h2>
      <QueueChoices id="queue-ids" queues={others} />
      <div class="row">
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
          <FieldError error={error} field="queue.mode" />
        </label>
      </div>
      <SelectorFields
        rows={selectors}
        onChange={setSelectors}
        error={error}
        field="queue.selectors"
        legend="Selectors (every call of the queue needs an agent who matches)"
      />
      <div class="row">
        <label>
          Offer timeout (s) <input value={offer} onInput={text(setOffer)} inputMode="numeric" />
          <FieldError error={error} field="queue.offer_timeout" />
        </label>
        <label>
          Wrap-up (s) <input value={wrap} onInput={text(setWrap)} inputMode="numeric" />
          <FieldError error={error} field="queue.wrap_up" />
        </label>
        <label>
          Service level: answered within (s) <input value={slThreshold} onInput={text(setSlThreshold)} inputMode="numeric" />
          <FieldError error={error} field="queue.service_level_threshold" />
        </label>
        <label>
          Service level target (%) <input value={slTarget} onInput={text(setSlTarget)} inputMode="numeric" placeholder="none" />
          <FieldError error={error} field="queue.service_level_target_percent" />
        </label>
      </div>
      <fieldset data-testid="limits">
        <legend>Limits and what happens at them</legend>
        <div class="row">
          <label>
            Callers waiting at most (empty: no limit) <input value={maxLength} onInput={text(setMaxLength)} inputMode="numeric" />
            <FieldError error={error} field="queue.max_length" />
          </label>
          <ActionFields
            label="When the queue is full"
            field="when_full"
            unset="refuse the call"
            model={whenFull}
            onChange={setWhenFull}
            {...actionProps}
          />
        </div>
        <div class="row">
          <label>
            Longest wait (s, empty: none) <input value={maxWait} onInput={text(setMaxWait)} inputMode="numeric" />
            <FieldError error={error} field="queue.max_wait" />
          </label>
          <ActionFields
            label="When a caller has waited that long"
            field="when_max_wait"
            unset="overflow, or time out"
            model={whenMaxWait}
            onChange={setWhenMaxWait}
            {...actionProps}
          />
          <label>
            Overflow queue <input value={overflow} onInput={text(setOverflow)} list="queue-ids" />
            <FieldError error={error} field="queue.overflow_queue_id" />
          </label>
        </div>
        <div class="row">
          <ActionFields
            label="When no agent of the queue is signed in"
            field="when_no_agents"
            unset="wait"
            model={whenNoAgents}
            onChange={setWhenNoAgents}
            {...actionProps}
          />
        </div>
      </fieldset>
      <HoursFields model={hours} onChange={setHours} error={error}>
        {/* Only with hours, unless set: then the router says it needs them. */}
        {(hours.enabled || whenClosed.kind !== "") && (
          <div class="row">
            <ActionFields
              label="When a call arrives while closed"
              field="when_closed"
              unset="disconnect"
              model={whenClosed}
              onChange={setWhenClosed}
              {...actionProps}
            />
          </div>
        )}
      </HoursFields>
      <fieldset data-testid="priority-aging">
        <legend>Priority aging (waiting callers move up)</legend>
        <div class="row">
          <label>
            Every (s, empty: off) <input value={agingEvery} onInput={text(setAgingEvery)} inputMode="numeric" />
            <FieldError error={error} field="queue.priority_aging.interval" />
          </label>
          <label>
            Raise by <input value={agingStep} onInput={text(setAgingStep)} inputMode="numeric" placeholder="1" />
            <FieldError error={error} field="queue.priority_aging.step" />
          </label>
          <label>
            Up to <input value={agingMax} onInput={text(setAgingMax)} inputMode="numeric" />
            <FieldError error={error} field="queue.priority_aging.max_boost" />
          </label>
        </div>
        <FieldError error={error} field="queue.priority_aging" exact />
      </fieldset>
      <FormEnd error={error} saved={saved} places={places} />
    </form>
  );
}
