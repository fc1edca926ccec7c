import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["vitest/**/*.test.ts"],
    // Each test file starts its own Latchkey (milliseconds): files run in parallel threads
    // without sharing a clock or a reset.
    pool: "threads",
    // Generous for a loaded CI machine; a release Latchkey starts in milliseconds.
    hookTimeout: 30_000,
    testTimeout: 30_000,
  },
});
