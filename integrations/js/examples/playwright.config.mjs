import { defineConfig } from "@playwright/test";

export default defineConfig({
  testDir: "playwright",
  // One Latchkey for the whole run, started in globalSetup: the tests share it, so they do not
  // reset it or move its clock (see fixtures.mjs for a server per worker, which may).
  globalSetup: "./playwright/global-setup.mjs",
  workers: 2,
  use: {
    launchOptions: {
      // Debian's Chromium; drop these two lines where `npx playwright install` works.
      executablePath: process.env.CHROMIUM_PATH || "/usr/bin/chromium",
      args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"],
    },
  },
});
