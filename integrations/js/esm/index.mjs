// The ES module entry: the same implementation as the CommonJS one (one copy of the code, so
// `import` and `require` in one test run share the cleanup of started servers).
import cjs from "../dist/index.js";

export const {
  startLatchkey,
  connectLatchkey,
  findLatchkeyBinary,
  LatchkeyNotFoundError,
  LatchkeyStartError,
  LatchkeyAdminError,
  LatchkeyLoginError,
} = cjs;
export default cjs;
