// A Latchkey per Playwright worker, reset before each test: tests in parallel workers may move
// the clock or reset without seeing each other.
import { test as base } from "@playwright/test";
import { startLatchkey } from "@latchkey/testing";

export const test = base.extend({
  workerLatchkey: [
    async ({}, use) => {
      const latchkey = await startLatchkey({ config: "latchkey.toml" });
      await use(latchkey);
      await latchkey.stop();
    },
    { scope: "worker" },
  ],
  latchkey: async ({ workerLatchkey }, use) => {
    await workerLatchkey.reset();
    await use(workerLatchkey);
  },
});
export { expect } from "@playwright/test";
