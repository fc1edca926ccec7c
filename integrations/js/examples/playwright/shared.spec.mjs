// Against the server started in globalSetup (shared by all workers: read-only use).
import { test, expect } from "@playwright/test";
import { connectLatchkey } from "@latchkey/testing";

test("the shared server publishes its discovery document", async ({ request }) => {
  const latchkey = connectLatchkey();

  const res = await request.get(latchkey.url("/.well-known/openid-configuration"));

  expect(res.ok()).toBeTruthy();
  expect((await res.json()).issuer).toBe(latchkey.issuer);
});

test("a backend token from the shared server", async ({ request }) => {
  const latchkey = connectLatchkey();

  const res = await request.post(latchkey.url("/token"), {
    headers: { authorization: `Basic ${btoa("books-backend:books-backend-secret")}` },
    form: { grant_type: "client_credentials", scope: "read_books" },
  });

  expect(res.status()).toBe(200);
  expect((await res.json()).scope).toBe("read_books");
});
