// A real browser signs in on Latchkey's login page, with a Latchkey per worker.
import { test, expect } from "./fixtures.mjs";

test("alice signs in by clicking her persona", async ({ page, latchkey }) => {
  // The app's callback: caught in the browser, so no app server is needed for this test.
  let callback;
  await page.route("http://localhost:3000/callback**", (route) => {
    callback = new URL(route.request().url());
    return route.fulfill({ status: 200, contentType: "text/html", body: "<h1>Signed in</h1>" });
  });
  const authorize = new URL(latchkey.url("/authorize"));
  authorize.search = new URLSearchParams({
    response_type: "code",
    client_id: "books-web",
    redirect_uri: "http://localhost:3000/callback",
    scope: "openid email",
    state: "st-123",
  }).toString();

  await page.goto(authorize.toString());
  await page.getByRole("button", { name: /Alice Liddell/ }).click();
  await expect(page.getByRole("heading", { name: "Signed in" })).toBeVisible();

  expect(callback.searchParams.get("state")).toBe("st-123");
  expect(callback.searchParams.get("code")).toBeTruthy();
  const [entry] = await latchkey.requests({ path: "/authorize" });
  expect(entry.client_id).toBe("books-web");
});

test("the clock moved in one worker's server is its own", async ({ latchkey }) => {
  await latchkey.advanceClock(86400);
  expect((await latchkey.clock()).offset).toBe(86400);
});
