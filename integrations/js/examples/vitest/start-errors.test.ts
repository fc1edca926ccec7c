import { expect, it } from "vitest";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connectLatchkey, startLatchkey, LatchkeyNotFoundError, LatchkeyStartError } from "@latchkey/testing";

it("says what to install when the binary is missing", async () => {
  const e = await startLatchkey({ binary: "/no/such/latchkey" }).catch((e: unknown) => e);

  expect(e).toBeInstanceOf(LatchkeyNotFoundError);
  expect(String(e)).toMatch(/LATCHKEY_BIN.*scripts\/build-static\.sh/);
});

it("names the file, line and key of a broken config", async () => {
  const dir = mkdtempSync(join(tmpdir(), "latchkey-example-"));
  writeFileSync(join(dir, "broken.toml"), '[server]\naccess_token_ttl = "soon"\n');

  const e = await startLatchkey({ config: join(dir, "broken.toml") }).catch((e: unknown) => e);

  expect(e).toBeInstanceOf(LatchkeyStartError);
  expect((e as LatchkeyStartError).output).toMatch(/broken\.toml:2.*access_token_ttl/);
});

it("stops with await using", async () => {
  let pid: number | undefined;
  {
    await using latchkey = await startLatchkey();
    pid = latchkey.pid;
    expect((await latchkey.admin<{ issuer: string }>("GET", "/status")).issuer).toBe(latchkey.issuer);
  }
  expect(() => process.kill(pid!, 0)).toThrow();
});

it("drives a server started elsewhere with connectLatchkey and its admin token", async () => {
  const adminToken = "example-admin-token-0123456789";
  await using started = await startLatchkey({ config: "latchkey.toml", args: ["--admin-token", adminToken] });

  await expect(connectLatchkey({ issuer: started.issuer }).clock()).rejects.toMatchObject({ status: 401 });
  const connected = connectLatchkey({ issuer: started.issuer, adminToken });
  expect((await connected.mintToken({ clientId: "books-backend" })).scope).toBe("read_books add_books");
  await connected.stop(); // does nothing: the server is not connected's to stop
  expect(() => process.kill(started.pid!, 0)).not.toThrow();
});
