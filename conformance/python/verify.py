"""Runs PyJWT on Latchkey's tokens the way a Python API using it with its defaults does, so
tests/conformance can compare it with the pyjwt-2 resource profile.

    python verify.py < cases.json > verdicts.json

Input: {"cases": [{"id", "token", "jwks_uri", "issuer", "audience": [..], "leeway": s,
         "now": UNIX s, "algorithms": [..]}]}
Output: {"library", "version", "results": [{"id", "accepted": bool, "error"?: "..."}]}

Each case gets a fresh PyJWKClient (no cache carries over) and the clock the Latchkey check
used: PyJWT reads the time only through datetime.now() in jwt.api_jwt, which is replaced by a
clock frozen at the case's `now` (PyJWT has no option for the current time).
"""

import json
import sys
from datetime import datetime, timezone

import jwt
import jwt.api_jwt


class FrozenClock(datetime):
    """datetime whose now() is the case's instant."""

    instant = 0.0

    @classmethod
    def now(cls, tz=None):
        return datetime.fromtimestamp(cls.instant, tz or timezone.utc)


def verify(case):
    # The documented PyJWT pattern: the signing key for the token's kid from the JWKS URL,
    # then jwt.decode with the algorithms the API allows, its audience and issuer.
    client = jwt.PyJWKClient(case["jwks_uri"])
    key = client.get_signing_key_from_jwt(case["token"]).key
    jwt.decode(
        case["token"],
        key,
        algorithms=case["algorithms"],
        audience=case["audience"],
        issuer=case["issuer"],
        leeway=case["leeway"],
    )


def main():
    cases = json.load(sys.stdin)["cases"]
    if getattr(jwt.api_jwt, "datetime", None) is not datetime:
        sys.exit("jwt.api_jwt no longer reads the time through datetime.now(): update verify.py")
    jwt.api_jwt.datetime = FrozenClock
    results = []
    for case in cases:
        FrozenClock.instant = float(case["now"])
        try:
            verify(case)
            results.append({"id": case["id"], "accepted": True})
        except Exception as e:  # noqa: BLE001 - every refusal is reported, whatever its class
            results.append({"id": case["id"], "accepted": False, "error": f"{type(e).__name__}: {e}"})
    json.dump({"library": "PyJWT", "version": jwt.__version__, "results": results}, sys.stdout)


if __name__ == "__main__":
    main()
