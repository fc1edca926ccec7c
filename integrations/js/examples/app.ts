// The app under test: the auth code of a small books service, written the way an app writes
// it, with nothing Latchkey-specific. It only knows its issuer and client credentials; the
// tests point them at Latchkey.
import * as oidc from "openid-client";
import { createRemoteJWKSet, jwtVerify, type JWTPayload } from "jose";

export interface Settings {
  issuer: string;
  clientId: string;
  clientSecret: string;
  redirectUri?: string;
}

/** Discovery; plain http is allowed because the issuer is a local development provider. The
 * client authenticates with HTTP Basic (client_secret_basic, RFC 6749 §2.3.1), as registered. */
async function discover(s: Settings): Promise<oidc.Configuration> {
  const allowHttp = new URL(s.issuer).protocol === "http:";
  return oidc.discovery(new URL(s.issuer), s.clientId, undefined, oidc.ClientSecretBasic(s.clientSecret), {
    execute: allowHttp ? [oidc.allowInsecureRequests] : [],
  });
}

/** The backend's token: client credentials (RFC 6749 §4.4). */
export async function backendToken(s: Settings, scope = "read_books"): Promise<string> {
  const config = await discover(s);
  const token = await oidc.clientCredentialsGrant(config, { scope });
  return token.access_token;
}

export class Unauthorized extends Error {}
export class Forbidden extends Error {}

/** What the books API does with `Authorization: Bearer ...` (RFC 9068 access tokens). */
export function tokenVerifier(issuer: string, audience: string) {
  const jwks = createRemoteJWKSet(new URL(`${issuer}/jwks`));
  return async (token: string, scope: string): Promise<JWTPayload> => {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, jwks, { issuer, audience, typ: "at+jwt" }));
    } catch (e) {
      throw new Unauthorized((e as Error).message);
    }
    if (!String(payload.scope ?? "").split(" ").includes(scope)) throw new Forbidden(`the token lacks the ${scope} scope`);
    return payload;
  };
}

/** The web app's sign-in: authorization code flow with PKCE, state and nonce. */
export async function webLogin(s: Settings) {
  const config = await discover(s);
  const codeVerifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: s.redirectUri ?? "http://localhost:3000/callback",
    scope: "openid profile email read_books",
    code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: "S256",
    state,
    nonce,
  });
  return {
    url: url.toString(),
    /** Handles the redirect back: checks state and nonce, exchanges the code, verifies the id_token. */
    async callback(callbackUrl: string) {
      const tokens = await oidc.authorizationCodeGrant(config, new URL(callbackUrl), {
        pkceCodeVerifier: codeVerifier,
        expectedState: state,
        expectedNonce: nonce,
        idTokenExpected: true,
      });
      return { accessToken: tokens.access_token, user: tokens.claims()! };
    },
  };
}
