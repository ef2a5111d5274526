import { useEffect, useState } from "preact/hooks";

// The web edge's API: every unary method of the router as
// POST /api/v1/<Service>/<Method> with JSON, and the events of a tenant
// over a WebSocket that resumes after the last sequence it saw.

export type Json = Record<string, any>;

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface Me {
  name: string;
  object_id: string;
  microsoft_tenant_id: string;
  roles: string[];
  expires_at: number;
}

export class Api {
  constructor(private token: () => Promise<string>) {}

  private async request(path: string, init: RequestInit): Promise<Json> {
    const token = await this.token();
    const response = await fetch(path, {
      ...init,
      headers: { ...(init.headers ?? {}), Authorization: `Bearer ${token}` },
    });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) {
      const e = body.error ?? {};
      throw new ApiError(
        response.status,
        e.code ?? "UNKNOWN",
        e.message ?? response.statusText,
      );
    }
    return body;
  }

  me(): Promise<Me> {
    return this.request("/api/v1/me", { method: "GET" }) as Promise<Me>;
  }

  call(service: string, method: string, body: Json): Promise<Json> {
    return this.request(`/api/v1/${service}/${method}`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
  }

  /// Events of `tenant` as they happen, from after `fromSequence`; the
  /// connection is made again (resuming) when it drops. Returns a stop
  /// function.
  events(
    tenant: string,
    onEvent: (e: Json) => void,
    onStatus: (connected: boolean, error?: string) => void,
  ): () => void {
    let last = 0;
    let stopped = false;
    let socket: WebSocket | undefined;
    let delay = 500;
    const open = async () => {
      if (stopped) return;
      const token = await this.token().catch(() => "");
      const scheme = location.protocol === "https:" ? "wss" : "ws";
      socket = new WebSocket(`${scheme}://${location.host}/api/v1/events`);
      socket.onopen = () => {
        socket!.send(
          JSON.stringify({ token, tenant_id: tenant, from_sequence: last }),
        );
        onStatus(true);
        delay = 500;
      };
      socket.onmessage = (m) => {
        const data = JSON.parse(m.data);
        if (data.error) {
          onStatus(false, data.error.message);
          if (data.error.code === "PERMISSION_DENIED" ||
              data.error.code === "NOT_FOUND")
            stopped = true;
          return;
        }
        const e = data.event;
        last = Math.max(last, Number(e.sequence));
        onEvent(e);
      };
      socket.onclose = () => {
        onStatus(false);
        if (!stopped) setTimeout(open, delay);
        delay = Math.min(delay * 2, 10_000);
      };
    };
    void open();
    return () => {
      stopped = true;
      socket?.close();
    };
  }
}

/// "1m 05s" of a protobuf Duration in JSON ("65s", "1.5s").
export function seconds(d: string | undefined): number {
  if (!d) return 0;
  return parseFloat(d.replace(/s$/, "")) || 0;
}

export function clock(total: number): string {
  total = Math.max(0, Math.round(total));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const two = (n: number) => String(n).padStart(2, "0");
  return h > 0 ? `${h}:${two(m)}:${two(s)}` : `${m}:${two(s)}`;
}

export function since(timestamp: string | undefined, now: number): number {
  if (!timestamp) return 0;
  return (now - Date.parse(timestamp)) / 1000;
}

export function words(enumName: string | undefined, prefix: string): string {
  if (!enumName) return "";
  const w = enumName.replace(prefix, "").toLowerCase().replace(/_/g, " ");
  return w.charAt(0).toUpperCase() + w.slice(1);
}

/// The time now, kept current every second (for "waited 0:14").
export function useNow(): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, []);
  return now;
}
