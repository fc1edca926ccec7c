import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startLatchkey, LatchkeyAdminError, type Latchkey } from "@latchkey/testing";
import { backendToken, Forbidden, tokenVerifier, Unauthorized } from "../app.ts";

// One server per test file (each file runs in its own worker thread), reset before each test.
let latchkey: Latchkey;
beforeAll(async () => {
  latchkey = await startLatchkey({ config: "latchkey.toml" });
});
afterAll(() => latchkey?.stop());
beforeEach(() => latchkey.reset());

const backend = () => ({ issuer: latchkey.issuer, clientId: "books-backend", clientSecret: "books-backend-secret" });

describe("the backend and the books API", () => {
  it("gets a token with client credentials that the API accepts", async () => {
    const token = await backendToken(backend());

    const claims = await tokenVerifier(latchkey.issuer, "books-api")(token, "read_books");

    expect(claims.client_id).toBe("books-backend");
    expect(claims.iss).toBe(latchkey.issuer);
  });

  it("is refused with a wrong secret", async () => {
    // 401 invalid_client with `WWW-Authenticate: Basic` (RFC 6749 §5.2): openid-client reports the challenge.
    await expect(backendToken({ ...backend(), clientSecret: "wrong" })).rejects.toMatchObject({
      name: "WWWAuthenticateChallengeError",
      status: 401,
    });
  });

  it("refuses a token without the scope", async () => {
    const { access_token } = await latchkey.mintToken({ clientId: "books-backend", scopes: ["add_books"] });

    await expect(tokenVerifier(latchkey.issuer, "books-api")(access_token, "read_books")).rejects.toBeInstanceOf(Forbidden);
  });

  it("refuses an expired token", async () => {
    // Issued an hour ago for one minute: expired by the API's real clock.
    await latchkey.setClockOffset(-3600);
    const { access_token } = await latchkey.mintToken({ clientId: "books-backend", ttl: 60 });

    await expect(tokenVerifier(latchkey.issuer, "books-api")(access_token, "read_books")).rejects.toThrow(Unauthorized);
  });

  it("sees introspection follow the moved clock", async () => {
    const token = await backendToken(backend());
    const introspect = async () => {
      const res = await fetch(latchkey.url("/introspect"), {
        method: "POST",
        headers: { authorization: `Basic ${btoa("books-backend:books-backend-secret")}` },
        body: new URLSearchParams({ token }),
      });
      return ((await res.json()) as { active: boolean }).active;
    };

    expect(await introspect()).toBe(true);
    await latchkey.advanceClock(301); // access_token_ttl is 300 s in latchkey.toml
    expect(await introspect()).toBe(false);
  });

  it("starts every test at real time with an empty log", async () => {
    expect((await latchkey.clock()).offset).toBe(0);
    expect(await latchkey.requests()).toEqual([]);
  });

  it("logs what the app sent, secrets redacted", async () => {
    await backendToken(backend(), "read_books");

    const [entry, ...more] = await latchkey.requests({ path: "/token" });

    expect(more).toEqual([]);
    expect(entry.status).toBe(200);
    expect(entry.client_id).toBe("books-backend");
    expect(entry.params).toContainEqual(expect.objectContaining({ name: "grant_type", value: "client_credentials" }));
    expect(JSON.stringify(entry)).not.toContain("books-backend-secret");
  });

  it("goes back to the config file on reset", async () => {
    const { access_token } = await latchkey.mintToken({ clientId: "books-backend" });
    await latchkey.admin("DELETE", "/clients/books-web");

    await latchkey.reset();

    expect((await latchkey.inspectToken(access_token)).introspection.active).toBe(false);
    expect(await latchkey.admin("GET", "/clients/books-web")).toMatchObject({ client_id: "books-web" });
  });

  it("reports admin API errors with their code", async () => {
    const e = await latchkey.mintToken({ clientId: "nobody" }).catch((e: unknown) => e);

    expect(e).toBeInstanceOf(LatchkeyAdminError);
    expect((e as LatchkeyAdminError).status).toBe(422);
    expect((e as LatchkeyAdminError).fields[0]?.field).toBe("client_id");
  });
});

describe("faults and call counts", () => {
  it("the token endpoint fails once, the app's next request works, and the counts say so", async () => {
    await latchkey.addFault({
      name: "token down",
      endpoint: "token",
      client_id: "books-backend",
      action: "status",
      status: 503,
      times: 1,
    });

    await expect(backendToken(backend())).rejects.toBeTruthy();
    await expect(backendToken(backend())).resolves.toBeTruthy();

    const [rule] = await latchkey.faults();
    expect([rule.fired, rule.active]).toEqual([1, false]);
    expect((await latchkey.stats()).clients["books-backend"].endpoints.token).toBe(2);
    const [failed] = await latchkey.requests({ path: "/token", limit: 2 });
    expect(failed.status).toBe(503);
    await latchkey.removeFault("token down");
    expect(await latchkey.faults()).toEqual([]);
  });
});
