// A second Jest file, so two workers each run their own server at the same time.
const { startLatchkey, LatchkeyAdminError } = require("@latchkey/testing");

let latchkey;
beforeAll(async () => {
  latchkey = await startLatchkey({ config: "latchkey.toml" });
});
afterAll(() => latchkey?.stop());
beforeEach(() => latchkey.reset());

test("a minted token for alice carries her subject and extra claims", async () => {
  const minted = await latchkey.mintToken({ clientId: "books-web", user: "alice", scopes: ["read_books"], claims: { tenant: "acme" } });

  const detail = await latchkey.inspectToken(minted.access_token);

  expect(detail.payload.tenant).toBe("acme");
  expect(detail.record.username).toBe("alice");
  expect(minted.scope).toBe("read_books");
});

test("a revoked token introspects inactive", async () => {
  const minted = await latchkey.mintToken({ clientId: "books-backend" });

  await latchkey.revokeToken(minted.id);

  const [token] = await latchkey.tokens({ client_id: "books-backend" });
  expect(token.state).toBe("revoked");
  expect((await latchkey.inspectToken(minted.access_token)).introspection).toEqual({ active: false });
});

test("an unknown client is a 422 naming the field", async () => {
  await expect(latchkey.mintToken({ clientId: "nobody" })).rejects.toBeInstanceOf(LatchkeyAdminError);
});
