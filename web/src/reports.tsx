// The supervisor's reports, read from the call history (ListCallHistory):
// the day's charts per 15 minutes and per agent, and a history search
// with its CSV export.

import { useEffect, useState } from "preact/hooks";
import { ApiError, Json, clock, words } from "./api";
import type { Session } from "./main";

/// Every record of a history query, following its pages (at most 20).
async function history(session: Session, query: Json): Promise<Json[]> {
  const all: Json[] = [];
  let page_token = "";
  for (let i = 0; i < 20; i++) {
    const r = await session.api.call("StatsService", "ListCallHistory", {
      tenant_id: session.tenant,
      page_size: 1000,
      ...query,
      page_token,
    });
    all.push(...(r.records ?? []));
    page_token = r.next_page_token ?? "";
    if (!page_token) break;
  }
  return all;
}

function startOfDay(): Date {
  const d = new Date();
  d.setHours(0, 0, 0, 0);
  return d;
}

const answered = (r: Json) => !!r.answered_at;
const abandoned = (r: Json) => r.outcome === "CALL_STATE_ABANDONED";

/// Bars of `series` (each a value per bucket), side by side per bucket.
function Bars({ labels, series, title, unit = "" }: {
  labels: string[];
  series: { name: string; color: string; values: number[] }[];
  title: string;
  unit?: string;
}) {
  const width = 720;
  const height = 180;
  const max = Math.max(1, ...series.flatMap((s) => s.values));
  const slot = (width - 40) / Math.max(1, labels.length);
  const bar = Math.min(40, Math.max(1, (slot - 2) / series.length));
  return (
    <figure class="chart">
      <figcaption>
        {title}
        {series.map((s) => (
          <span class="legend">
            <i style={{ background: s.color }} /> {s.name}
          </span>
        ))}
      </figcaption>
      <svg viewBox={`0 0 ${width} ${height + 24}`} role="img" aria-label={title}>
        <line x1="40" y1={height} x2={width} y2={height} class="axis" />
        <text x="36" y="10" class="tick" text-anchor="end">
          {max}
          {unit}
        </text>
        {labels.map((label, i) => (
          <g>
            {series.map((s, k) => {
              const h = (s.values[i] / max) * (height - 12);
              return (
                <rect x={40 + i * slot + k * bar} y={height - h} width={bar} height={h} fill={s.color}>
                  <title>
                    {label} {s.name}: {s.values[i]}
                    {unit}
                  </title>
                </rect>
              );
            })}
            {i % 4 === 0 && (
              <text x={40 + i * slot} y={height + 16} class="tick">
                {label}
              </text>
            )}
          </g>
        ))}
      </svg>
    </figure>
  );
}

/// The day so far: per 15 minutes offered, answered, abandoned and the
/// service level; per agent calls handled and average handle time.
export function Today({ session, queues }: { session: Session; queues: Json[] }) {
  const [records, setRecords] = useState<Json[]>();
  const [error, setError] = useState<string>();
  useEffect(() => {
    history(session, { from: startOfDay().toISOString() }).then(setRecords, (e) =>
      setError(e instanceof ApiError ? e.message : String(e)),
    );
  }, [session.tenant]);
  if (error) return <p class="error" role="alert">{error}</p>;
  if (!records) return <p class="muted">Reading today's calls…</p>;
  const threshold = new Map<string, number>(
    queues.map((q) => [q.queue_id, parseFloat(q.service_level_threshold ?? "20") || 20]),
  );
  const day = startOfDay().getTime();
  const now = Date.now();
  const buckets = Math.max(1, Math.ceil((now - day) / 900_000));
  const first = Math.max(0, buckets - 48); // the last 12 hours at most
  const labels: string[] = [];
  const offered: number[] = [];
  const answeredIn: number[] = [];
  const abandonedIn: number[] = [];
  const level: number[] = [];
  for (let b = first; b < buckets; b++) {
    const at = new Date(day + b * 900_000);
    labels.push(at.toTimeString().slice(0, 5));
    const here = records.filter((r) => Math.floor((Date.parse(r.arrived_at) - day) / 900_000) === b);
    offered.push(here.length);
    answeredIn.push(here.filter(answered).length);
    abandonedIn.push(here.filter(abandoned).length);
    const within = here.filter(
      (r) =>
        answered(r) &&
        (Date.parse(r.answered_at) - Date.parse(r.arrived_at)) / 1000 <= (threshold.get(r.queue_path?.[0]) ?? 20),
    ).length;
    const counted = here.filter((r) => answered(r) || abandoned(r)).length;
    level.push(counted ? Math.round((100 * within) / counted) : 0);
  }
  const agents = new Map<string, { handled: number; seconds: number }>();
  for (const r of records.filter(answered)) {
    if (!r.agent_id) continue;
    const a = agents.get(r.agent_id) ?? { handled: 0, seconds: 0 };
    a.handled++;
    a.seconds += (Date.parse(r.ended_at) - Date.parse(r.answered_at)) / 1000;
    agents.set(r.agent_id, a);
  }
  const names = [...agents.keys()].sort();
  return (
    <section aria-label="Today" data-testid="today">
      <p class="muted">
        {records.length} calls today, {records.filter(answered).length} answered, {records.filter(abandoned).length}{" "}
        abandoned.
      </p>
      <Bars
        title="Calls per 15 minutes"
        labels={labels}
        series={[
          { name: "offered", color: "#5b5fc7", values: offered },
          { name: "answered", color: "#13a10e", values: answeredIn },
          { name: "abandoned", color: "#c4314b", values: abandonedIn },
        ]}
      />
      <Bars title="Service level per 15 minutes" unit=" %" labels={labels} series={[{ name: "service level", color: "#0f6cbd", values: level }]} />
      <Bars
        title="Calls handled per agent"
        labels={names}
        series={[{ name: "handled", color: "#5b5fc7", values: names.map((n) => agents.get(n)!.handled) }]}
      />
      <table class="grid">
        <thead>
          <tr>
            <th>Agent</th>
            <th>Handled</th>
            <th>Average handle time</th>
          </tr>
        </thead>
        <tbody>
          {names.map((n) => (
            <tr>
              <td>{n}</td>
              <td>{agents.get(n)!.handled}</td>
              <td>{clock(agents.get(n)!.seconds / agents.get(n)!.handled)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

const columns: [string, (r: Json) => string][] = [
  ["call_id", (r) => r.call_id],
  ["arrived_at", (r) => r.arrived_at ?? ""],
  ["answered_at", (r) => r.answered_at ?? ""],
  ["ended_at", (r) => r.ended_at ?? ""],
  ["caller", (r) => r.from ?? ""],
  ["queues", (r) => (r.queue_path ?? []).join(" > ")],
  ["agent_id", (r) => r.agent_id ?? ""],
  ["outcome", (r) => words(r.outcome, "CALL_STATE_")],
  ["disposition_code", (r) => r.disposition_code ?? ""],
  ["note", (r) => r.note ?? ""],
];

/// RFC 4180: fields with a quote, comma or line break are quoted, quotes
/// doubled; a leading =, +, - or @ is prefixed with ' so that a
/// spreadsheet does not run it as a formula.
function csvField(value: string): string {
  const safe = /^[=+\-@]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export function toCsv(records: Json[]): string {
  const lines = [columns.map(([name]) => name).join(",")];
  for (const r of records) lines.push(columns.map(([, get]) => csvField(get(r))).join(","));
  return lines.join("\r\n") + "\r\n";
}

/// History search: by end time, queue, agent and caller; CSV export.
export function History({ session, queues }: { session: Session; queues: Json[] }) {
  const today = startOfDay();
  const iso = (d: Date) => `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
  const [from, setFrom] = useState(iso(today));
  const [to, setTo] = useState(iso(today));
  const [queue, setQueue] = useState("");
  const [agent, setAgent] = useState("");
  const [caller, setCaller] = useState("");
  const [records, setRecords] = useState<Json[]>();
  const [error, setError] = useState<string>();
  const search = async (e?: Event) => {
    e?.preventDefault();
    try {
      setError(undefined);
      const end = new Date(`${to}T00:00:00`);
      end.setDate(end.getDate() + 1);
      setRecords(
        await history(session, {
          from: new Date(`${from}T00:00:00`).toISOString(),
          to: end.toISOString(),
          queue_id: queue,
          agent_id: agent,
          caller,
        }),
      );
    } catch (x) {
      setError(x instanceof ApiError ? x.message : String(x));
    }
  };
  const download = () => {
    const blob = new Blob([toCsv(records ?? [])], { type: "text/csv" });
    const a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    a.download = `calls-${session.tenant}-${from}-${to}.csv`;
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 1000);
  };
  const value = (set: (v: string) => void) => (e: Event) => set((e.target as HTMLInputElement).value);
  return (
    <section aria-label="History" data-testid="history-search">
      <form class="filters" onSubmit={search}>
        <label>
          From <input type="date" value={from} onInput={value(setFrom)} />
        </label>
        <label>
          To <input type="date" value={to} onInput={value(setTo)} />
        </label>
        <label>
          Queue{" "}
          <select value={queue} onChange={value(setQueue)}>
            <option value="">all</option>
            {queues.map((q) => (
              <option value={q.queue_id}>{q.queue_id}</option>
            ))}
          </select>
        </label>
        <label>
          Agent <input value={agent} onInput={value(setAgent)} placeholder="agent id" />
        </label>
        <label>
          Caller <input value={caller} onInput={value(setCaller)} placeholder="+14255550100" />
        </label>
        <button class="primary" type="submit">
          Search
        </button>
        <button type="button" disabled={!records?.length} onClick={download}>
          Export CSV
        </button>
      </form>
      {error && <p class="error" role="alert">{error}</p>}
      {records && (
        <table class="grid" data-testid="history-results">
          <thead>
            <tr>
              <th>Ended</th>
              <th>Caller</th>
              <th>Queue</th>
              <th>Agent</th>
              <th>Outcome</th>
              <th>Disposition</th>
              <th>Note</th>
            </tr>
          </thead>
          <tbody>
            {records.map((r) => (
              <tr>
                <td>{new Date(r.ended_at).toLocaleString()}</td>
                <td>{r.from}</td>
                <td>{(r.queue_path ?? []).join(" > ")}</td>
                <td>{r.agent_id}</td>
                <td>{words(r.outcome, "CALL_STATE_")}</td>
                <td>{r.disposition_code}</td>
                <td class="note">{r.note}</td>
              </tr>
            ))}
            {records.length === 0 && (
              <tr>
                <td colSpan={7} class="muted">
                  No call matches.
                </td>
              </tr>
            )}
          </tbody>
        </table>
      )}
    </section>
  );
}
