import { expect, it } from "vitest";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startLatchkey, LatchkeyNotFoundError, LatchkeyStartError } from "@latchkey/testing";

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
