import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["vitest/**/*.test.ts"],
    // Each test file starts its own Latchkey (milliseconds): files run in parallel threads
    // without sharing a clock or a reset.
    pool: "threads",
  },
});
