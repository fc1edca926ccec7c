import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, it } from "vitest";
import { Agent, fetch as undiciFetch } from "undici";
import { createRemoteJWKSet, customFetch, jwtVerify } from "jose";
import { startLatchkey } from "@latchkey/testing";

// HTTPS with Latchkey's local CA; every client here verifies the certificate.
it("serves HTTPS that a client trusting only the CA verifies, and the fixture's admin calls work over it", async () => {
  const tlsDir = mkdtempSync(join(tmpdir(), "latchkey-tls-"));
  await using latchkey = await startLatchkey({ config: "latchkey.toml", tls: true, tlsDir });
  expect(latchkey.issuer).toMatch(/^https:\/\/localhost:\d+$/);
  expect(latchkey.caCert).toBe(join(tlsDir, "ca.pem"));
  expect(latchkey.trustEnv.NODE_EXTRA_CA_CERTS).toBe(latchkey.caCert);
  expect(readFileSync(latchkey.trustEnv.SSL_CERT_FILE!, "utf8")).toContain(readFileSync(latchkey.caCert!, "utf8").trim());

  // The admin API over TLS (the fixture trusts the CA by itself).
  const { access_token } = await latchkey.mintToken({ clientId: "books-backend", scopes: ["read_books"] });

  // Node's fetch does not know the CA: verification fails.
  await expect(fetch(latchkey.url("/.well-known/openid-configuration"))).rejects.toThrow();

  // An app's HTTP client that trusts the CA verifies the token against the JWKS over HTTPS.
  const dispatcher = new Agent({ connect: { ca: readFileSync(latchkey.caCert!, "utf8") } });
  const trusted = ((url: string | URL, init?: object) =>
    undiciFetch(url, { ...init, dispatcher })) as unknown as typeof fetch;
  const discovery = (await (await trusted(latchkey.url("/.well-known/openid-configuration"))).json()) as { jwks_uri: string };
  const jwks = createRemoteJWKSet(new URL(discovery.jwks_uri), { [customFetch]: trusted });
  const { payload } = await jwtVerify(access_token, jwks, { issuer: latchkey.issuer, audience: "books-api" });
  expect(payload.client_id).toBe("books-backend");
});
