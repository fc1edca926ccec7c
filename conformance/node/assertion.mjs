// Makes JWT assertions with jose (panva), as a Node client using private_key_jwt,
// client_secret_jwt or the JWT bearer grant does (RFC 7523), so tests/conformance can check
// that Latchkey accepts what an independent library signs.
//
//   node assertion.mjs < cases.json > assertions.json
//
// Input: {"cases": [{"id", "alg", "key": PKCS#8 PEM or the client secret, "kid"?, "claims"}]}
// Output: {"library", "version", "assertions": [{"id", "jwt"}]}
import { readFileSync } from 'node:fs';
import * as jose from 'jose';

const input = JSON.parse(readFileSync(0, 'utf8'));
const assertions = [];
for (const c of input.cases) {
  const key = c.alg.startsWith('HS')
    ? new TextEncoder().encode(c.key)
    : await jose.importPKCS8(c.key, c.alg);
  const header = { alg: c.alg };
  if (c.kid) header.kid = c.kid;
  // The claims as given (iat, exp and jti included), like a client that sets them itself.
  const jwt = await new jose.SignJWT(c.claims).setProtectedHeader(header).sign(key);
  assertions.push({ id: c.id, jwt });
}
const version = JSON.parse(
  readFileSync(new URL('./node_modules/jose/package.json', import.meta.url), 'utf8'),
).version;
process.stdout.write(JSON.stringify({ library: 'jose', version, assertions }));
