// Jest with CommonJS: `require("@latchkey/testing")`. Each test file gets its own server (Jest
// runs files in parallel worker processes), reset before each test.
const { startLatchkey } = require("@latchkey/testing");

let latchkey;
beforeAll(async () => {
  latchkey = await startLatchkey({ config: "latchkey.toml" });
});
afterAll(() => latchkey?.stop());
beforeEach(() => latchkey.reset());

async function clientCredentials(scope) {
  const res = await fetch(latchkey.url("/token"), {
    method: "POST",
    headers: { authorization: `Basic ${btoa("books-backend:books-backend-secret")}` },
    body: new URLSearchParams({ grant_type: "client_credentials", scope }),
  });
  return { status: res.status, body: await res.json() };
}

test("client credentials gives a token for the API", async () => {
  const { status, body } = await clientCredentials("read_books");

  expect(status).toBe(200);
  const detail = await latchkey.inspectToken(body.access_token);
  expect(detail.payload.aud).toBe("books-api");
  expect(detail.signature.verified).toBe(true);
});

test("a scope the client may not have is invalid_scope", async () => {
  const { status, body } = await clientCredentials("delete_books");

  expect(status).toBe(400);
  expect(body.error).toBe("invalid_scope");
});

test("a moved clock expires the token", async () => {
  const { body } = await clientCredentials("read_books");
  await latchkey.advanceClock(301);

  const detail = await latchkey.inspectToken(body.access_token);

  expect(detail.introspection.active).toBe(false);
  expect(detail.status.state).toBe("expired");
});

test("each test starts clean", async () => {
  expect(await latchkey.tokens()).toEqual([]);
  expect((await latchkey.clock()).offset).toBe(0);
});
