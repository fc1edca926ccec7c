/**
 * Latchkey in JavaScript and TypeScript tests.
 *
 * `startLatchkey({ config })` runs `latchkey serve --port 0 --db :memory: --ready-file PATH`
 * and resolves once the server answers; the returned object wraps the admin API
 * (`/admin/api/...`, see Latchkey's docs/admin-api.md). `connectLatchkey()` drives a server
 * started elsewhere (Playwright's globalSetup, `latchkey exec`).
 *
 * The clock and reset are server-wide: give each test worker its own server (start it in the
 * test file or a per-worker fixture, never share one across parallel workers).
 */

import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { Agent, fetch as undiciFetch } from "undici";
import { accessSync, constants, existsSync, mkdtempSync, openSync, closeSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join, resolve } from "node:path";

const INSTALL_HINT =
  "Install Latchkey (`npm install -D latchkey`, this package's peer dependency, carries it for Linux, macOS and Windows) " +
  "or put `latchkey` on PATH, or set LATCHKEY_BIN to the binary " +
  "(or pass { binary } to startLatchkey). From a checkout of the Latchkey repository: " +
  "`scripts/build-static.sh` builds target/static/latchkey, which runs on any x86_64 Linux; " +
  "`cargo build --release` builds target/release/latchkey.";

/** The `latchkey` binary is not on PATH and LATCHKEY_BIN does not name one. */
export class LatchkeyNotFoundError extends Error {
  override name = "LatchkeyNotFoundError";
}

/** The server exited or did not answer in time; `output` is what it printed. */
export class LatchkeyStartError extends Error {
  override name = "LatchkeyStartError";
  constructor(
    message: string,
    /** The server's stdout and stderr. */
    public readonly output: string,
  ) {
    super(output ? `${message}\n${output}` : message);
  }
}

/** The admin API answered with an error (`status`, and the body's `error` code, `message`, `fields`). */
export class LatchkeyAdminError extends Error {
  override name = "LatchkeyAdminError";
  /** The API's machine-readable code: `invalid`, `not_found`, `conflict`, ... */
  readonly code: string | undefined;
  /** For `invalid`: each invalid field and why. */
  readonly fields: { field: string; message: string }[];
  constructor(
    method: string,
    path: string,
    /** The HTTP status. */
    public readonly status: number,
    /** The parsed body (or its text). */
    public readonly body: unknown,
  ) {
    const b = (typeof body === "object" && body !== null ? body : {}) as {
      error?: string;
      message?: string;
      fields?: { field: string; message: string }[];
    };
    super(`${method} ${path}: ${status} ${b.error ?? ""}: ${b.message ?? String(body)}`);
    this.code = b.error;
    this.fields = b.fields ?? [];
  }
}

/** `authorize()` did not end in a redirect to the app (a refused request, a wrong password). */
export class LatchkeyLoginError extends Error {
  override name = "LatchkeyLoginError";
}

/** Options of {@link startLatchkey}. */
export interface StartOptions {
  /** A latchkey.toml to load (clients, scopes, users, resources, settings). */
  config?: string;
  /** The binary [default: $LATCHKEY_BIN, else `latchkey` on PATH]. */
  binary?: string;
  /** More `latchkey serve` flags, e.g. `["--issuer", "http://localhost:9999/realms/dev"]`. */
  args?: string[];
  /** Extra environment for the server. LATCHKEY_* of this process are not inherited. */
  env?: Record<string, string>;
  /** Milliseconds to wait for the server to answer [default: 30000]. */
  timeoutMs?: number;
  /**
   * Serve HTTPS (issuer `https://localhost:<port>`) with a certificate from Latchkey's local CA,
   * kept in `tlsDir` [default: Latchkey's data directory, the CA `latchkey ca` shows]. The
   * admin calls verify the server against that CA; `caCert` and `trustEnv` say how to trust it.
   */
  tls?: boolean;
  /** Where the local CA lives (with `tls`). */
  tlsDir?: string;
}

/** `POST /admin/api/tokens`: what to mint. */
export interface MintOptions {
  /** The client it is issued to. */
  clientId: string;
  /** A username: `sub` becomes that user's subject [default: the client's id]. */
  user?: string;
  /** Within the client's scopes [default: all of them]. */
  scopes?: string[];
  /** Lifetime in seconds [default: the client's or the server's access-token lifetime]. */
  ttl?: number;
  /** Extra claims (registered claims such as `iss`, `sub`, `aud`, `exp` cannot be replaced). */
  claims?: Record<string, unknown>;
}

/** A minted access token. */
export interface MintedToken {
  access_token: string;
  token_type: "Bearer";
  /** Seconds. */
  expires_in: number;
  scope: string;
  /** The token's id in the admin API (`/admin/api/tokens/{id}`). */
  id: string;
}

/** The server clock. */
export interface ClockState {
  /** UNIX seconds, by the server clock. */
  now: number;
  /** Seconds from real time. */
  offset: number;
}

/** A name/value pair of the request log (secrets are `[redacted]`). */
export interface LoggedParam {
  name: string;
  /** The value, or `[redacted]`. */
  value: string;
  /** `query` or `body` (parameters only). */
  source?: "query" | "body";
}

/** One protocol request in the request log. */
export interface LoggedRequest {
  id: number;
  /** UNIX milliseconds (server clock). */
  at: number;
  method: string;
  path: string;
  status: number;
  duration_ms: number;
  client_id: string | null;
  params: LoggedParam[];
  headers: LoggedParam[];
  response: Record<string, unknown>;
  /** A curl command reproducing it, secrets as shell variables. */
  curl: string;
  /** When a fault rule changed the response: the rule and what it changed. */
  fault?: { rule: string; change: string };
  [key: string]: unknown;
}

/** A recorded token (`GET /admin/api/tokens`). */
export interface TokenItem {
  id: string;
  kind: string;
  format: string;
  client_id: string;
  subject: string;
  username: string | null;
  scope: string;
  audience: string[];
  issued_at: number;
  expires_at: number;
  state: "active" | "expired" | "revoked" | "consumed";
  grant_type: string;
  claims: Record<string, unknown>;
  [key: string]: unknown;
}

/** Filters of {@link Latchkey.tokens}. */
export interface TokenFilters {
  client_id?: string;
  username?: string;
  kind?: string;
  status?: "active" | "expired" | "revoked" | "consumed";
  limit?: number;
}

/** Everything Latchkey knows about a token string (`POST /admin/api/tokens/inspect`). */
export interface TokenDetail {
  record: TokenItem | null;
  token: string;
  format: "jwt" | "opaque";
  header: Record<string, unknown> | null;
  payload: Record<string, unknown> | null;
  signature: { kid: string | null; alg: string | null; verified: boolean; reason: string } | null;
  status: { state: string; reason: string; expires_in: number };
  /** Exactly what `/introspect` answers for it. */
  introspection: { active: boolean; [claim: string]: unknown };
  [key: string]: unknown;
}

/** What a reset removed (`POST /admin/api/reset`). */
export interface ResetSummary {
  tokens: number;
  consents: number;
  requests: number;
  /** Whether the signing keys were replaced. */
  keys: boolean;
  /** Milliseconds the reset took on the server. */
  elapsed_ms: number;
}

/** Options of {@link Latchkey.authorize}. */
export interface AuthorizeOptions {
  /** Sign in through the username/password form [default: pick the persona, no password]. */
  password?: string;
  /** Approve the consent page when the client requires consent [default: true]. */
  consent?: boolean;
}

/** A Latchkey server and its admin API. */
export interface Latchkey extends AsyncDisposable {
  /** The issuer identifier, e.g. `http://localhost:41235`: the base of every endpoint. */
  readonly issuer: string;
  /** `${issuer}/admin/api`. */
  readonly adminUrl: string;
  /** The server's process id (undefined for a server this object did not start). */
  readonly pid: number | undefined;
  /** With TLS: the path of Latchkey's CA certificate (`ca.pem`), to trust in your app's HTTP client. */
  readonly caCert: string | undefined;
  /**
   * With TLS: the variables that make runtimes trust the CA (`NODE_EXTRA_CA_CERTS`,
   * `SSL_CERT_FILE`, `REQUESTS_CA_BUNDLE`, ...: what `latchkey exec --tls` sets); `{}` without.
   * Node.js reads NODE_EXTRA_CA_CERTS only at start: pass these to processes you spawn, or set
   * them in `process.env` in a globalSetup so that test workers started later inherit them.
   */
  readonly trustEnv: Readonly<Record<string, string>>;
  /** An absolute URL on the server: `url("/token")`. */
  url(path?: string): string;
  /** What the server printed so far (a server this object started). */
  output(): string;
  /**
   * Back to the state the config file describes: tokens, sessions, consents,
   * the request log and the clock are cleared; clients, scopes, users and resources are the
   * file's again. The signing keys are kept unless `{ keys: true }` (then tokens signed
   * before no longer verify). Takes a few milliseconds: call it in `beforeEach`.
   */
  reset(options?: { keys?: boolean }): Promise<ResetSummary>;
  /** Stops the server this object started (SIGTERM, SIGKILL after 10 s); a no-op otherwise. */
  stop(): Promise<void>;
  /** Mints an access token without any flow. */
  mintToken(options: MintOptions): Promise<MintedToken>;
  /** The server clock. */
  clock(): Promise<ClockState>;
  /** Moves the server clock by `seconds` (negative: back); issuance, expiry and introspection follow it. */
  advanceClock(seconds: number): Promise<ClockState>;
  /** Sets the clock to real time plus `seconds` (0: real time). */
  setClockOffset(seconds: number): Promise<ClockState>;
  /** The request log (the last 1,000 requests), oldest first; only one `path` or `clientId`; only the newest `limit`. */
  requests(options?: { limit?: number; path?: string; clientId?: string }): Promise<LoggedRequest[]>;
  /** Recorded tokens, newest first. */
  tokens(filters?: TokenFilters): Promise<TokenItem[]>;
  /** Decodes and checks a token string: record, header, payload, signature, status, introspection. */
  inspectToken(token: string): Promise<TokenDetail>;
  /** Revokes a token by its id. */
  revokeToken(id: string): Promise<void>;
  /**
   * Plays the browser for an authorization request your app built: opens `authorizationUrl`,
   * signs in as `user`, approves consent, and resolves to the URL Latchkey redirects to (your
   * callback with `code` and `state`, or `error`). Each call is a new browser.
   */
  authorize(authorizationUrl: string, user: string, options?: AuthorizeOptions): Promise<string>;
  /**
   * Adds a fault rule (docs/faults.md): `addFault({ name: "down", endpoint: "token", action:
   * "status", status: 503, times: 1 })`. Resolves to the rule with its counters.
   */
  addFault(rule: FaultRule): Promise<FaultRuleState>;
  /** Removes the fault rule `name`. */
  removeFault(name: string): Promise<void>;
  /** Every fault rule with its counters (`matched`, `fired`, `active`). */
  faults(): Promise<FaultRuleState[]>;
  /** Call counts per endpoint, client and user since start or the last reset. */
  stats(): Promise<CallStats>;
  /** Any admin API call: `admin("GET", "/clients")`. JSON in, parsed JSON out (undefined for 204). */
  admin<T = unknown>(method: string, path: string, body?: unknown): Promise<T>;
}

/** A fault rule, as `[[faults]]` and `/admin/api/faults` take it (docs/faults.md). */
export interface FaultRule {
  name: string;
  endpoint:
    | "token" | "authorize" | "login" | "consent" | "userinfo" | "introspect" | "revoke"
    | "jwks" | "discovery" | "end_session" | "resources";
  action: "error" | "status" | "delay" | "timeout" | "drop" | "malformed" | "tamper" | "jwks";
  enabled?: boolean;
  client_id?: string;
  username?: string;
  grant_type?: string;
  scope?: string;
  path?: string;
  error?: string;
  error_description?: string;
  status?: number;
  body?: string;
  retry_after?: number;
  delay_ms?: number;
  timeout_ms?: number;
  malformed?: "truncated_json" | "html" | "wrong_content_type";
  tamper?:
    | "bad_signature" | "unknown_kid" | "alg_none" | "wrong_iss" | "wrong_aud" | "expired"
    | "nbf_future" | "iat_future" | "missing_scope" | "extra_claim" | "removed_claim";
  token?: "access_token" | "id_token";
  claim?: string;
  jwks?: "empty" | "key_missing" | "previous_only" | "unavailable";
  kid?: string;
  times?: number;
  every?: number;
}

/** A fault rule with its counters. */
export interface FaultRuleState extends FaultRule {
  matched: number;
  fired: number;
  active: boolean;
  last_fired_ms?: number;
  summary: string;
}

/** Counts per endpoint name (`token`, `jwks`, ...). */
export interface CallCounts {
  total: number;
  endpoints: Record<string, number>;
}

/** `GET /admin/api/stats`. */
export interface CallStats {
  since_ms: number;
  all: CallCounts;
  clients: Record<string, CallCounts>;
  users: Record<string, CallCounts>;
  other: CallCounts;
}

/**
 * The `latchkey` executable: `explicit`, else LATCHKEY_BIN, else `latchkey` on PATH. Throws
 * {@link LatchkeyNotFoundError} saying what to install.
 */
export function findLatchkeyBinary(explicit?: string): string {
  const isExe = (p: string) => {
    try {
      accessSync(p, constants.X_OK);
      return statSync(p).isFile();
    } catch {
      return false;
    }
  };
  for (const [source, candidate] of [
    ["given", explicit],
    ["LATCHKEY_BIN", process.env.LATCHKEY_BIN],
  ] as const) {
    if (candidate) {
      const p = resolve(candidate);
      if (isExe(p)) return p;
      throw new LatchkeyNotFoundError(`${source} Latchkey binary ${JSON.stringify(candidate)} is not an executable file. ${INSTALL_HINT}`);
    }
  }
  const exe = process.platform === "win32" ? "latchkey.exe" : "latchkey";
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (dir && isExe(join(dir, exe))) return join(dir, exe);
  }
  // The binary the `latchkey` npm package (this one's optional peer dependency) installed for this platform.
  let packaged: string | undefined;
  let why = "";
  try {
    packaged = (require("latchkey") as { binaryPath(): string }).binaryPath();
  } catch (e) {
    why = ` (${(e as Error).message})`;
  }
  if (packaged && isExe(packaged)) return packaged;
  throw new LatchkeyNotFoundError(
    `\`latchkey\` is not on PATH, LATCHKEY_BIN is not set, and the latchkey npm package has no binary here${why}. ${INSTALL_HINT}`,
  );
}

/** Servers started in this process: killed if the process exits without stopping them. */
const running = new Set<ChildProcess>();
let exitHookInstalled = false;
function track(child: ChildProcess) {
  running.add(child);
  child.once("exit", () => running.delete(child));
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once("exit", () => {
      for (const c of running) c.kill("SIGKILL");
    });
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Starts `latchkey serve` on a free loopback port with an in-memory database and resolves
 * once it answers. Rejects with {@link LatchkeyNotFoundError} or {@link LatchkeyStartError}.
 */
export async function startLatchkey(options: StartOptions = {}): Promise<Latchkey> {
  const exe = findLatchkeyBinary(options.binary);
  const dir = mkdtempSync(join(tmpdir(), "latchkey-"));
  const ready = join(dir, "ready");
  const logPath = join(dir, "latchkey.log");
  const args = ["serve", "--port", "0", "--db", ":memory:", "--ready-file", ready];
  if (options.tls) {
    args.push("--tls");
    if (options.tlsDir !== undefined) args.push("--tls-dir", resolve(options.tlsDir));
  }
  if (options.config !== undefined) {
    const config = resolve(options.config);
    if (!existsSync(config)) {
      rmSync(dir, { recursive: true, force: true });
      throw new LatchkeyStartError(`Latchkey config file ${JSON.stringify(config)} does not exist`, "");
    }
    args.push("--config", config);
  }
  args.push(...(options.args ?? []));
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && (!k.startsWith("LATCHKEY_") || k === "LATCHKEY_LOG")) env[k] = v;
  }
  Object.assign(env, options.env);
  const log = openSync(logPath, "w");
  let child: ChildProcess;
  try {
    child = spawn(exe, args, { cwd: dir, env, stdio: ["ignore", log, log] });
  } finally {
    closeSync(log);
  }
  const output = () => {
    try {
      return readFileSync(logPath, "utf8");
    } catch {
      return "";
    }
  };
  let exited: { code: number | null; signal: NodeJS.Signals | null; error?: Error } | undefined;
  const exit = new Promise<void>((res) => {
    child.once("exit", (code, signal) => {
      exited ??= { code, signal };
      res();
    });
    child.once("error", (error) => {
      exited = { code: null, signal: null, error };
      res();
    });
  });
  track(child);
  const cleanup = () => rmSync(dir, { recursive: true, force: true });
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  let delay = 2;
  for (;;) {
    if (existsSync(ready)) {
      const issuer = readFileSync(ready, "utf8").trim();
      if (issuer) {
        let trust: Record<string, string> = {};
        if (options.tls) {
          try {
            trust = trustEnvironment(exe, options.tlsDir, env);
          } catch (e) {
            child.kill("SIGTERM");
            await exit;
            cleanup();
            throw e;
          }
        }
        return makeLatchkey(issuer, { child, exit, output, cleanup }, undefined, undefined, trust);
      }
    }
    if (exited) {
      const out = output();
      cleanup();
      if (exited.error) throw new LatchkeyNotFoundError(`cannot run ${exe}: ${exited.error.message}. ${INSTALL_HINT}`);
      throw new LatchkeyStartError(
        `latchkey serve exited (${exited.signal ?? `status ${exited.code}`}) before it answered.\ncommand: ${exe} ${args.join(" ")}`,
        out,
      );
    }
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      await exit;
      const out = output();
      cleanup();
      throw new LatchkeyStartError(`latchkey serve did not answer within ${options.timeoutMs ?? 30_000} ms`, out);
    }
    await sleep(delay);
    delay = Math.min(delay * 2, 50);
  }
}

/**
 * Drives a Latchkey server started elsewhere: by `latchkey exec` or Playwright's globalSetup
 * (which set LATCHKEY_ISSUER and LATCHKEY_ADMIN_URL), or a container (`adminToken`, or
 * LATCHKEY_ADMIN_TOKEN, for a server started with `--admin-token`). `stop()` does nothing.
 */
export function connectLatchkey(options: { issuer?: string; adminUrl?: string; adminToken?: string } = {}): Latchkey {
  const issuer = options.issuer ?? process.env.LATCHKEY_ISSUER;
  if (!issuer) {
    throw new LatchkeyNotFoundError(
      "connectLatchkey: no issuer given and LATCHKEY_ISSUER is not set (start the tests under `latchkey exec`, or set it in globalSetup)",
    );
  }
  const ca = process.env.LATCHKEY_CA_CERT;
  return makeLatchkey(
    issuer,
    undefined,
    options.adminUrl ?? process.env.LATCHKEY_ADMIN_URL,
    options.adminToken ?? process.env.LATCHKEY_ADMIN_TOKEN,
    ca ? { LATCHKEY_CA_CERT: ca } : {},
  );
}

/** `latchkey ca --env` parsed: `{ NAME: value }` (it prints `export NAME='value'` lines). */
function trustEnvironment(exe: string, tlsDir: string | undefined, env: Record<string, string>): Record<string, string> {
  const args = ["ca", "--env"];
  if (tlsDir !== undefined) args.push("--tls-dir", resolve(tlsDir));
  let out: string;
  try {
    out = execFileSync(exe, args, { env, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new LatchkeyStartError(`\`${exe} ${args.join(" ")}\` failed: ${err.stderr ?? err.message}`, "");
  }
  const trust: Record<string, string> = {};
  for (const line of out.split("\n")) {
    const m = /^export (\w+)='(.*)'$/.exec(line);
    if (m) trust[m[1]] = m[2].replaceAll("'\\''", "'");
  }
  return trust;
}

/** `fetch`, verifying the server against `caCert` when one is given (undici's Agent). */
function fetcher(caCert: string | undefined): typeof fetch {
  if (!caCert) return fetch;
  const dispatcher = new Agent({ connect: { ca: readFileSync(caCert, "utf8") } });
  return ((url: string, init?: RequestInit) =>
    undiciFetch(url, { ...(init as object), dispatcher } as Parameters<typeof undiciFetch>[1])) as unknown as typeof fetch;
}

interface Owned {
  child: ChildProcess;
  exit: Promise<void>;
  output: () => string;
  cleanup: () => void;
}

function makeLatchkey(
  issuer: string,
  owned?: Owned,
  adminUrlGiven?: string,
  adminToken?: string,
  trustEnv: Record<string, string> = {},
): Latchkey {
  const base = issuer.replace(/\/+$/, "");
  const caCert = trustEnv.LATCHKEY_CA_CERT;
  const fetch = fetcher(caCert);
  const adminUrl = (adminUrlGiven ?? `${base}/admin/api`).replace(/\/+$/, "");

  async function admin<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { accept: "application/json" };
    if (body !== undefined) headers["content-type"] = "application/json";
    if (adminToken) headers.authorization = `Bearer ${adminToken}`;
    const res = await fetch(adminUrl + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: unknown = undefined;
    if (text) {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = text;
      }
    }
    if (!res.ok) throw new LatchkeyAdminError(method, path, res.status, parsed);
    return parsed as T;
  }

  const query = (params: Record<string, unknown>) => {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null) q.set(k, String(v));
    const s = q.toString();
    return s ? `?${s}` : "";
  };

  let stopped: Promise<void> | undefined;
  const lk: Latchkey = {
    issuer,
    adminUrl,
    pid: owned?.child.pid,
    caCert,
    trustEnv: { ...trustEnv },
    url: (path = "") => base + path,
    output: () => owned?.output() ?? "",
    admin,
    reset(options) {
      // `options` may be a test runner's hook context (`beforeEach(latchkey.reset)`): only an
      // explicit `keys: true` asks for new keys.
      return admin<ResetSummary>("POST", "/reset", options?.keys === true ? { keys: true } : undefined);
    },
    stop() {
      if (!owned) return Promise.resolve();
      stopped ??= (async () => {
        if (owned.child.exitCode === null && owned.child.signalCode === null) {
          owned.child.kill("SIGTERM");
          const timer = setTimeout(() => owned.child.kill("SIGKILL"), 10_000);
          await owned.exit;
          clearTimeout(timer);
        }
        owned.cleanup();
      })();
      return stopped;
    },
    [Symbol.asyncDispose]() {
      return lk.stop();
    },
    mintToken({ clientId, user, scopes, ttl, claims }) {
      return admin<MintedToken>("POST", "/tokens", { client_id: clientId, username: user, scopes, ttl, claims });
    },
    clock: () => admin<ClockState>("GET", "/clock"),
    advanceClock: (seconds) => admin<ClockState>("POST", "/clock", { advance: Math.trunc(seconds) }),
    setClockOffset: (seconds) => admin<ClockState>("POST", "/clock", { offset: Math.trunc(seconds) }),
    async requests({ limit, path, clientId } = {}) {
      const items: LoggedRequest[] = [];
      let cursor: number | null | undefined;
      do {
        const page = await admin<{ items: LoggedRequest[]; next_cursor: number | null }>(
          "GET",
          `/requests${query({ limit: 500, cursor })}`,
        );
        items.push(...page.items);
        cursor = page.next_cursor;
      } while (cursor !== null && cursor !== undefined);
      const picked = items.filter(
        (r) => (path === undefined || r.path === path) && (clientId === undefined || r.client_id === clientId),
      );
      return (limit === undefined ? picked : picked.slice(0, limit)).reverse();
    },
    async tokens(filters = {}) {
      return (await admin<{ items: TokenItem[] }>("GET", `/tokens${query({ ...filters })}`)).items;
    },
    inspectToken: (token) => admin<TokenDetail>("POST", "/tokens/inspect", { token }),
    async revokeToken(id) {
      await admin("POST", `/tokens/${encodeURIComponent(id)}/revoke`);
    },
    authorize: (url, user, opts = {}) => authorize(base, url, user, opts, fetch),
    addFault: (rule) => admin<FaultRuleState>("POST", "/faults", rule),
    async removeFault(name) {
      await admin("DELETE", `/faults/${encodeURIComponent(name)}`);
    },
    faults: () => admin<FaultRuleState[]>("GET", "/faults"),
    stats: () => admin<CallStats>("GET", "/stats"),
  };
  return lk;
}

/** One browser: cookies kept by name, redirects not followed. */
async function authorize(
  base: string,
  authorizationUrl: string,
  user: string,
  opts: AuthorizeOptions,
  fetch: typeof globalThis.fetch,
): Promise<string> {
  const cookies = new Map<string, string>();
  const go = async (url: string, form?: Record<string, string>) => {
    const headers: Record<string, string> = { accept: "text/html" };
    if (cookies.size) headers.cookie = [...cookies].map(([k, v]) => `${k}=${v}`).join("; ");
    if (form) headers["content-type"] = "application/x-www-form-urlencoded";
    const res = await fetch(url, {
      method: form ? "POST" : "GET",
      headers,
      body: form ? new URLSearchParams(form).toString() : undefined,
      redirect: "manual",
    });
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(";");
      const eq = pair.indexOf("=");
      if (eq > 0) cookies.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
    }
    const location = res.status >= 300 && res.status < 400 ? res.headers.get("location") : null;
    return { status: res.status, location, page: await res.text() };
  };
  let r = await go(authorizationUrl);
  if (!r.location) {
    const req = hidden(r.page, "req");
    if (req === undefined) throw new LatchkeyLoginError(`the authorization request was refused: ${pageMessage(r.page)}`);
    const form: Record<string, string> =
      opts.password === undefined ? { req, persona: user } : { req, username: user, password: opts.password };
    r = await go(`${base}/login`, form);
  }
  if (!r.location && r.page.includes('name="decision"')) {
    const req = hidden(r.page, "req");
    if (req === undefined) throw new LatchkeyLoginError(`unexpected consent page: ${pageMessage(r.page)}`);
    r = await go(`${base}/consent`, { req, decision: opts.consent === false ? "deny" : "approve" });
  }
  if (!r.location) {
    throw new LatchkeyLoginError(`signing in as ${JSON.stringify(user)} did not redirect (HTTP ${r.status}): ${pageMessage(r.page)}`);
  }
  return new URL(r.location, authorizationUrl).toString();
}

const unescapeHtml = (s: string) =>
  s
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&#x?([0-9a-f]+);/gi, (m, n: string) =>
      String.fromCodePoint(parseInt(n, m.startsWith("&#x") || m.startsWith("&#X") ? 16 : 10)),
    )
    .replace(/&amp;/g, "&");

function hidden(page: string, name: string): string | undefined {
  const m = new RegExp(`<input type="hidden" name="${name}" value="([^"]*)"`).exec(page);
  return m ? unescapeHtml(m[1]) : undefined;
}

function pageMessage(page: string): string {
  const m = /<div class="error" role="alert">([\s\S]*?)<\/div>/.exec(page) ?? /<p[^>]*>([\s\S]*?)<\/p>/.exec(page);
  return unescapeHtml((m ? m[1] : page.slice(0, 300)).replace(/<[^>]+>/g, "")).trim();
}
