// Runs a Node JWT library on Latchkey's tokens the way an API using it with its defaults
// does, so tests/conformance can compare it with the resource profile named after it.
//
//   node verify.mjs jose|jsonwebtoken < cases.json > verdicts.json
//
// Input: {"cases": [{"id", "token", "jwks_uri", "issuer", "audience": [..], "leeway": s,
//          "now": UNIX s, "algorithms"?: [..], "typ"?: "at+jwt" (jose only)}]}
// Output: {"library", "version", "results": [{"id", "accepted": bool, "error"?: "..."}]}
//
// Every case gets a fresh key-set client (so no cache carries over between cases) and the
// clock the Latchkey check used (`now`): jose's currentDate, jsonwebtoken's clockTimestamp.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const library = process.argv[2];
const input = JSON.parse(readFileSync(0, 'utf8'));

function describe(e) {
  return [e.code, e.name, e.message].filter(Boolean).join(': ');
}

// jose 5: jwtVerify(token, createRemoteJWKSet(jwks_uri), { issuer, audience }), algorithms and
// typ only when the resource sets them, clockTolerance = the resource's leeway.
async function joseVerify(c) {
  const jose = await import('jose');
  const jwks = jose.createRemoteJWKSet(new URL(c.jwks_uri));
  const options = {
    issuer: c.issuer,
    audience: c.audience,
    clockTolerance: c.leeway,
    currentDate: new Date(c.now * 1000),
  };
  if (c.algorithms) options.algorithms = c.algorithms;
  if (c.typ) options.typ = c.typ;
  await jose.jwtVerify(c.token, jwks, options);
}

// jsonwebtoken 9 with jwks-rsa 3, as its README and express-jwt wire them: the key callback
// asks jwks-rsa for the header's kid; algorithms are jsonwebtoken's defaults for the key type.
async function jsonwebtokenVerify(c) {
  const jwt = require('jsonwebtoken');
  const jwksRsa = require('jwks-rsa');
  const client = jwksRsa({ jwksUri: c.jwks_uri });
  const getKey = (header, callback) => {
    client.getSigningKey(header.kid, (err, key) => callback(err, key && key.getPublicKey()));
  };
  const options = {
    issuer: c.issuer,
    audience: c.audience,
    clockTolerance: c.leeway,
    clockTimestamp: c.now,
  };
  if (c.algorithms) options.algorithms = c.algorithms;
  await new Promise((resolve, reject) => {
    jwt.verify(c.token, getKey, options, (err, payload) => (err ? reject(err) : resolve(payload)));
  });
}

const runners = { jose: joseVerify, jsonwebtoken: jsonwebtokenVerify };
const run = runners[library];
if (!run) {
  console.error(`usage: node verify.mjs ${Object.keys(runners).join('|')} < cases.json`);
  process.exit(2);
}
const version = JSON.parse(readFileSync(new URL(`./node_modules/${library}/package.json`, import.meta.url), 'utf8')).version;
const results = [];
for (const c of input.cases) {
  try {
    await run(c);
    results.push({ id: c.id, accepted: true });
  } catch (e) {
    results.push({ id: c.id, accepted: false, error: describe(e) });
  }
}
process.stdout.write(JSON.stringify({ library, version, results }));
