// The app's frame: signs the user in, finds their tenant and agent from
// the page's address, and shows the views their roles open.

import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { Api, ApiError, Me } from "./api";
import { EdgeConfig, runningInTeams, token } from "./auth";
import { AgentView } from "./agent";
import { Supervisor } from "./supervisor";

export interface Session {
  api: Api;
  me: Me;
  tenant: string;
  agent: string;
}

const params = new URLSearchParams(location.search);

function remembered(name: string): string {
  const value = params.get(name) ?? localStorage.getItem(`switchboard.${name}`) ?? "";
  if (params.get(name)) localStorage.setItem(`switchboard.${name}`, value);
  return value;
}

/// Teams' theme (default, dark, contrast) or the system's, as a class.
async function followTheme(): Promise<void> {
  const set = (t: string) => {
    document.body.dataset.theme = t === "contrast" ? "contrast" : t === "dark" ? "dark" : "default";
  };
  if (await runningInTeams()) {
    const { app } = await import("@microsoft/teams-js");
    const context = await app.getContext();
    set(context.app.theme);
    app.registerOnThemeChangeHandler(set);
  } else {
    set(params.get("theme") ?? (matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "default"));
  }
}

function App() {
  const [session, setSession] = useState<Session>();
  const [error, setError] = useState<string>();
  const view = location.pathname.replace(/^\/+/, "").split("/")[0] || "agent";

  useEffect(() => {
    void followTheme();
    (async () => {
      const config: EdgeConfig = await (await fetch("/api/v1/config")).json();
      const api = new Api(() => token(config));
      const me = await api.me();
      setSession({ api, me, tenant: remembered("tenant"), agent: remembered("agent") });
    })().catch((e: unknown) => {
      setError(e instanceof ApiError ? `${e.message} (${e.code})` : String((e as Error).message ?? e));
    });
  }, []);

  if (error)
    return (
      <main class="center">
        <h1>Switchboard</h1>
        <p class="error" role="alert">Cannot sign you in: {error}</p>
      </main>
    );
  if (!session) return <p class="loading">Signing you in…</p>;
  if (!session.tenant)
    return (
      <main class="center">
        <p class="error" role="alert">
          No tenant chosen: open this page with ?tenant=YOUR-TENANT (the Teams tab's settings set it).
        </p>
      </main>
    );
  const roles = session.me.roles;
  const canSupervise = roles.some((r) => /Supervisor|Admin|Platform/.test(r));
  return (
    <div class="frame">
      <header>
        <strong class="brand">Switchboard</strong>
        <nav>
          <a href={`/agent${location.search}`} aria-current={view === "agent" ? "page" : undefined}>Agent</a>
          {canSupervise && (
            <a href={`/supervisor${location.search}`} aria-current={view === "supervisor" ? "page" : undefined}>
              Supervisor
            </a>
          )}
        </nav>
        <span class="who" title={session.me.object_id}>
          {session.me.name} · {session.tenant}
        </span>
      </header>
      {view === "supervisor" ? (
        canSupervise ? (
          <Supervisor session={session} />
        ) : (
          <main>
            <p class="error" role="alert">
              The supervisor's views need the Switchboard.Supervisor role; you have{" "}
              {roles.length ? roles.join(", ") : "no role"}.
            </p>
          </main>
        )
      ) : (
        <AgentView session={session} />
      )}
    </div>
  );
}

render(<App />, document.getElementById("app")!);
