// Signing in with Office 365: inside Teams through Teams single sign-on,
// elsewhere through MSAL's redirect flow. The access token is kept for the
// tab's session (sessionStorage) until shortly before it expires.

import { app, authentication } from "@microsoft/teams-js";
import { PublicClientApplication } from "@azure/msal-browser";

const key = "switchboard.token";

export interface EdgeConfig {
  client_id: string;
  authority: string;
  api_scope: string;
  sign_in: boolean;
  /// A laptop's demo: the user picks who they are (DemoSignIn).
  demo: boolean;
}

/// Raised in a demo until the user has picked who they are.
export class DemoSignInNeeded extends Error {}

function expiry(token: string): number {
  try {
    const payload = JSON.parse(
      atob(token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/")),
    );
    return Number(payload.exp) * 1000;
  } catch {
    return 0;
  }
}

function cached(): string | undefined {
  const token = sessionStorage.getItem(key) ?? undefined;
  if (token?.startsWith("demo.")) return token;
  if (token && expiry(token) - Date.now() > 120_000) return token;
  return undefined;
}

let inTeams: Promise<boolean> | undefined;

/// Whether the app runs as a Teams tab (teams-js answers within a second).
export function runningInTeams(): Promise<boolean> {
  if (!inTeams) {
    inTeams = (window.parent === window
      ? Promise.resolve(false)
      : Promise.race([
          app.initialize().then(() => true),
          new Promise<boolean>((r) => setTimeout(() => r(false), 1500)),
        ])
    ).catch(() => false);
  }
  return inTeams;
}

let msal: PublicClientApplication | undefined;

async function msalToken(config: EdgeConfig): Promise<string> {
  if (!config.client_id || !config.api_scope)
    throw new Error(
      "Sign-in outside Teams is not configured on this server " +
        "(--client-id and --api-scope of switchboard-web).",
    );
  if (!msal) {
    msal = new PublicClientApplication({
      auth: {
        clientId: config.client_id,
        authority: config.authority,
        redirectUri: location.origin + "/",
      },
      cache: { cacheLocation: "sessionStorage" },
    });
    await msal.initialize();
    await msal.handleRedirectPromise();
  }
  const account = msal.getAllAccounts()[0];
  if (!account) {
    await msal.loginRedirect({ scopes: [config.api_scope] });
    return new Promise(() => {}); // the page leaves for the sign-in
  }
  const r = await msal.acquireTokenSilent({
    scopes: [config.api_scope],
    account,
  });
  return r.accessToken;
}

/// An access token for Switchboard's API.
export async function token(config: EdgeConfig): Promise<string> {
  const t = cached();
  if (t) return t;
  if (config.demo) throw new DemoSignInNeeded("pick who you are");
  const fresh = (await runningInTeams())
    ? await authentication.getAuthToken()
    : await msalToken(config);
  sessionStorage.setItem(key, fresh);
  return fresh;
}

export function signOut(): void {
  sessionStorage.removeItem(key);
}

/// A demo session as `name` with `role` (Agent, Supervisor or Admin).
export async function demoSignIn(name: string, role: string): Promise<void> {
  const r = await fetch("/api/v1/demo/sign-in", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ name, role }),
  });
  const body = await r.json();
  if (!r.ok) throw new Error(body.error?.message ?? r.statusText);
  sessionStorage.setItem(key, body.token);
}
