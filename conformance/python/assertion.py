"""Makes JWT assertions with PyJWT, as a Python client using private_key_jwt,
client_secret_jwt or the JWT bearer grant does (RFC 7523), so tests/conformance can check that
Latchkey accepts what an independent library signs.

    python assertion.py < cases.json > assertions.json

Input: {"cases": [{"id", "alg": "RS256" | "ES256" | "HS256" | ..., "key": PKCS#8 PEM or the
         client secret, "kid"?: "...", "claims": {...}}]}
Output: {"library", "version", "assertions": [{"id", "jwt"}]}
"""

import json
import sys

import jwt


def main():
    cases = json.load(sys.stdin)["cases"]
    out = []
    for c in cases:
        headers = {"kid": c["kid"]} if c.get("kid") else None
        token = jwt.encode(c["claims"], c["key"], algorithm=c["alg"], headers=headers)
        out.append({"id": c["id"], "jwt": token})
    json.dump({"library": "PyJWT", "version": jwt.__version__, "assertions": out}, sys.stdout)


if __name__ == "__main__":
    main()
