// What registered JWT and OIDC claims mean (RFC 7519 §4.1, RFC 9068 §2.2, RFC 7515 §4.1,
// OIDC Core §2 and §5.1, RFC 8693 §4), for the claims table.

export const CLAIM_DESCRIPTIONS: Record<string, string> = {
  // JOSE header
  alg: 'Signing algorithm',
  kid: 'Key id: which key in the JWKS signed it',
  typ: 'Token type (at+jwt = OAuth access token, RFC 9068)',
  cty: 'Content type',
  // RFC 7519
  iss: 'Issuer: who created and signed the token',
  sub: 'Subject: the user, or the client itself for client credentials',
  aud: 'Audience: the APIs that should accept it',
  exp: 'Expires at',
  nbf: 'Not valid before',
  iat: 'Issued at',
  jti: 'Unique token id',
  // RFC 9068 / RFC 8693
  client_id: 'The client the token was issued to',
  scope: 'Granted scopes',
  act: 'Acting party (delegation)',
  may_act: 'Who may act for the subject',
  cnf: 'Confirmation: the key the token is bound to (cnf.jkt: DPoP key thumbprint, RFC 9449 §6)',
  // OIDC Core
  auth_time: 'When the user authenticated',
  nonce: 'Value from the authorization request, against replay',
  acr: 'Authentication context class',
  amr: 'Authentication methods used',
  azp: 'Authorized party: the client the ID token was issued to',
  at_hash: 'Hash of the access token issued with this ID token',
  c_hash: 'Hash of the authorization code issued with this ID token',
  sid: 'Session id',
  name: 'Full name',
  given_name: 'Given name',
  family_name: 'Family name',
  middle_name: 'Middle name',
  nickname: 'Casual name',
  preferred_username: 'Shorthand name the user wants to be called',
  profile: 'Profile page URL',
  picture: 'Profile picture URL',
  website: 'Web page or blog URL',
  email: 'Email address',
  email_verified: 'Whether the email address was verified',
  gender: 'Gender',
  birthdate: 'Birthday (YYYY-MM-DD)',
  zoneinfo: 'Time zone',
  locale: 'Locale',
  phone_number: 'Phone number',
  phone_number_verified: 'Whether the phone number was verified',
  address: 'Postal address',
  updated_at: 'When the profile was last updated',
  // RFC 7662 introspection
  active: 'Whether the token is usable right now',
  token_type: 'Token type',
  username: 'Username of the resource owner',
}

/** Claims whose value is a UNIX time in seconds. */
export const TIME_CLAIMS = new Set(['exp', 'nbf', 'iat', 'auth_time', 'updated_at'])

export function describeClaim(name: string): string | undefined {
  return CLAIM_DESCRIPTIONS[name]
}

/** The standard user claims of OIDC Core §5.1 that the user form has fields for. */
export const STANDARD_USER_CLAIMS = [
  'name', 'given_name', 'family_name', 'preferred_username', 'email', 'email_verified',
  'phone_number', 'picture', 'locale', 'zoneinfo',
] as const

/** The DPoP key thumbprint a token is bound to (`cnf.jkt`, RFC 9449 §6), if any. */
export function boundJkt(claims: unknown): string | null {
  if (!claims || typeof claims !== 'object') return null
  const cnf = (claims as Record<string, unknown>).cnf
  if (!cnf || typeof cnf !== 'object') return null
  const jkt = (cnf as Record<string, unknown>).jkt
  return typeof jkt === 'string' ? jkt : null
}
