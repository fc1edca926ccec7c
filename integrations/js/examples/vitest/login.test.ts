import { afterAll, beforeAll, beforeEach, expect, it } from "vitest";
import { startLatchkey, LatchkeyLoginError, type Latchkey } from "@latchkey/testing";
import { tokenVerifier, webLogin } from "../app.ts";

let latchkey: Latchkey;
beforeAll(async () => {
  latchkey = await startLatchkey({ config: "latchkey.toml" });
});
afterAll(() => latchkey?.stop());
beforeEach(() => latchkey.reset());

const web = () => ({ issuer: latchkey.issuer, clientId: "books-web", clientSecret: "books-web-secret" });

it("signs alice in with the authorization code flow", async () => {
  const login = await webLogin(web());

  const callbackUrl = await latchkey.authorize(login.url, "alice");
  const { user, accessToken } = await login.callback(callbackUrl);

  expect(user.email).toBe("alice@example.com");
  expect(user.name).toBe("Alice Liddell");
  await tokenVerifier(latchkey.issuer, "books-api")(accessToken, "read_books");
});

it("signs bob in with his password", async () => {
  const login = await webLogin(web());

  const { user } = await login.callback(await latchkey.authorize(login.url, "bob", { password: "bob-password" }));

  expect(user.email_verified).toBe(false);
});

it("stays on the login page with a wrong password", async () => {
  const login = await webLogin(web());

  await expect(latchkey.authorize(login.url, "alice", { password: "wrong" })).rejects.toBeInstanceOf(LatchkeyLoginError);
});

it("catches a tampered state", async () => {
  const login = await webLogin(web());
  const callbackUrl = await latchkey.authorize(login.url, "alice");

  const e = await login.callback(callbackUrl.replace("state=", "state=x")).then(
    () => undefined,
    (e: unknown) => e,
  );

  expect(e).toBeInstanceOf(Error);
  expect(String((e as Error).cause)).toMatch(/unexpected "state"/); // openid-client: a ClientError caused by the state check
});
