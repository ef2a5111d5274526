// The app's frame: signs the user in, finds their tenant and agent from
// the page's address, and shows the views their roles open.

import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { Api, ApiError, Me } from "./api";
import { DemoSignInNeeded, EdgeConfig, demoSignIn, runningInTeams, signOut, token } from "./auth";
import { AgentView } from "./agent";
import { Supervisor } from "./supervisor";
import { Admin } from "./admin/admin";

export interface Session {
  api: Api;
  me: Me;
  tenant: string;
  agent: string;
}

const params = new URLSearchParams(location.search);

/// A query parameter, remembered across visits of this browser.
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

/// The configurable tab's settings page, inside Teams: which view a
/// channel or chat tab shows, for which tenant.
function Configure() {
  const [tenant, setTenant] = useState(params.get("tenant") ?? "");
  const [view, setView] = useState("supervisor");
  const [inTeams, setInTeams] = useState<boolean>();
  useEffect(() => {
    void runningInTeams().then(setInTeams);
  }, []);
  useEffect(() => {
    if (!inTeams) return;
    void (async () => {
      const { pages } = await import("@microsoft/teams-js");
      pages.config.setValidityState(tenant.length > 0);
      pages.config.registerOnSaveHandler((save) => {
        const url = `${location.origin}/${view}?tenant=${encodeURIComponent(tenant)}`;
        pages.config
          .setConfig({
            contentUrl: url,
            websiteUrl: url,
            entityId: `${view}-${tenant}`,
            suggestedDisplayName: view === "supervisor" ? "Wallboard" : "Agent",
          })
          .then(() => save.notifySuccess(), (e: Error) => save.notifyFailure(e.message));
      });
    })();
  }, [inTeams, tenant, view]);
  return (
    <main class="center">
      <h1>Switchboard tab</h1>
      <form class="card signin" onSubmit={(e) => e.preventDefault()}>
        <label>
          Tenant <input value={tenant} onInput={(e) => setTenant((e.target as HTMLInputElement).value)} />
        </label>
        <label>
          The tab shows{" "}
          <select value={view} onChange={(e) => setView((e.target as HTMLSelectElement).value)}>
            <option value="supervisor">the queues' wallboard</option>
            <option value="agent">the agent's view</option>
          </select>
        </label>
        {inTeams === false && <p class="muted">Open this page from Teams, when adding the tab.</p>}
      </form>
    </main>
  );
}

/// The demo's sign-in: pick a tenant and who you are.
function DemoSignIn() {
  const [tenant, setTenant] = useState(params.get("tenant") ?? "contoso");
  const [role, setRole] = useState("Supervisor");
  const [agent, setAgent] = useState(params.get("agent") ?? "alice");
  const [error, setError] = useState<string>();
  const submit = async (e: Event) => {
    e.preventDefault();
    try {
      const name = role === "Agent" ? agent : `${role} of ${tenant}`;
      await demoSignIn(name, role);
      const q = new URLSearchParams({ tenant, ...(role === "Agent" ? { agent } : {}) });
      location.href = `/${role === "Agent" ? "agent" : role === "Admin" ? "admin" : "supervisor"}?${q}`;
    } catch (x) {
      setError(String((x as Error).message ?? x));
    }
  };
  return (
    <main class="center">
      <h1>Switchboard demo</h1>
      <p class="muted">
        A demo on this computer: pick who you are. A real deployment signs you in with Office 365.
      </p>
      <form class="card signin" onSubmit={submit}>
        <label>
          Tenant <input value={tenant} onInput={(e) => setTenant((e.target as HTMLInputElement).value)} />
        </label>
        <label>
          I am{" "}
          <select value={role} onChange={(e) => setRole((e.target as HTMLSelectElement).value)}>
            <option>Supervisor</option>
            <option>Agent</option>
            <option>Admin</option>
          </select>
        </label>
        {role === "Agent" && (
          <label>
            Agent id <input value={agent} onInput={(e) => setAgent((e.target as HTMLInputElement).value)} />
          </label>
        )}
        <button class="primary" type="submit">
          Sign in
        </button>
        {error && <p class="error" role="alert">{error}</p>}
      </form>
    </main>
  );
}

function App() {
  const [session, setSession] = useState<Session>();
  const [error, setError] = useState<string>();
  const [demo, setDemo] = useState(false);
  const view = location.pathname.replace(/^\/+/, "").split("/")[0] || "agent";

  useEffect(() => {
    void followTheme();
    if (view === "configure") return;
    (async () => {
      const config: EdgeConfig = await (await fetch("/api/v1/config")).json();
      const api = new Api(() => token(config));
      const me = await api.me();
      const tenant = remembered("tenant");
      // The agent that is the signed-in user (their Teams user id), unless
      // the address names one.
      let agent = params.get("agent") ?? "";
      if (!agent && tenant && me.object_id)
        agent = await api
          .call("AdminService", "GetAgent", { tenant_id: tenant, teams_user_id: me.object_id })
          .then((a) => a.agent.agent_id as string, () => "");
      setSession({ api, me, tenant, agent });
    })().catch((e: unknown) => {
      if (e instanceof DemoSignInNeeded) return setDemo(true);
      if (e instanceof ApiError && e.status === 401) signOut();
      setError(e instanceof ApiError ? `${e.message} (${e.code})` : String((e as Error).message ?? e));
    });
  }, []);

  if (view === "configure") return <Configure />;
  if (demo) return <DemoSignIn />;
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
  const canAdminister = roles.some((r) => /Admin|Platform/.test(r));
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
          {canAdminister && (
            <a href={`/admin${location.search}`} aria-current={view === "admin" ? "page" : undefined}>
              Admin
            </a>
          )}
        </nav>
        <span class="who" title={session.me.object_id}>
          {session.me.name} · {session.tenant}
        </span>
      </header>
      {view === "admin" ? (
        canAdminister ? (
          <Admin session={session} />
        ) : (
          <main>
            <p class="error" role="alert">
              The admin's views need the Switchboard.Admin role; you have {roles.length ? roles.join(", ") : "no role"}.
            </p>
          </main>
        )
      ) : view === "supervisor" ? (
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
