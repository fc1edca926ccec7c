// Playwright's globalSetup: start one Latchkey before all workers; its returned function is
// the teardown. The workers inherit LATCHKEY_ISSUER and reach the server with connectLatchkey().
import { startLatchkey } from "@latchkey/testing";

export default async function globalSetup() {
  const latchkey = await startLatchkey({ config: "latchkey.toml" });
  process.env.LATCHKEY_ISSUER = latchkey.issuer;
  process.env.LATCHKEY_ADMIN_URL = latchkey.adminUrl;
  return () => latchkey.stop();
}
