// An independent relying party against the portal's built-in authorization server: openid-client
// (discovery, code + PKCE, RFC 9207 iss check, ID token, userinfo, refresh, introspection,
// revocation) and oauth4webapi (RFC 9068 JWT access token validation). Nothing here shares code
// with the portal.
//
// Environment: RP_ISSUER, RP_CLIENT_ID, RP_CLIENT_SECRET, RP_REDIRECT_URI.
// Protocol with the test (one JSON object per line): the script prints {"authorize": url} and
// reads back the callback URL the browser reached; it does so twice (a sign-in that succeeds, then
// a prompt=none request the test makes without a session), and ends with {"ok": true, "steps": [...]}
// or {"ok": false, "error": "..."} and exit status 1.

import * as readline from 'node:readline';
import * as client from 'openid-client';
import * as oauth from 'oauth4webapi';

const { RP_ISSUER, RP_CLIENT_ID, RP_CLIENT_SECRET, RP_REDIRECT_URI } = process.env;
const lines = readline.createInterface({ input: process.stdin })[Symbol.asyncIterator]();
const steps = [];

function say(message) {
  process.stdout.write(JSON.stringify(message) + '\n');
}

async function browserVisit(url) {
  say({ authorize: url.href });
  const { value, done } = await lines.next();
  if (done) throw new Error('the test closed stdin before answering');
  return new URL(value.trim());
}

function check(condition, what) {
  if (!condition) throw new Error(`check failed: ${what}`);
}

// RFC 9068: typ at+jwt, signature from the JWKS, iss, exp, aud, and the required claims present.
async function validateAccessToken(config, accessToken) {
  const request = new Request('https://resource.example/', {
    headers: { authorization: `Bearer ${accessToken}` },
  });
  const claims = await oauth.validateJwtAccessToken(config.serverMetadata(), request, RP_CLIENT_ID, {
    [oauth.allowInsecureRequests]: true,
  });
  check(claims.client_id === RP_CLIENT_ID, 'access token client_id');
  return claims;
}

async function main() {
  const config = await client.discovery(
    new URL(RP_ISSUER),
    RP_CLIENT_ID,
    undefined,
    client.ClientSecretBasic(RP_CLIENT_SECRET),
    { execute: [client.allowInsecureRequests] },
  );
  check(config.serverMetadata().authorization_response_iss_parameter_supported, 'RFC 9207 advertised');
  steps.push('discovery');

  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const authorizeUrl = client.buildAuthorizationUrl(config, {
    redirect_uri: RP_REDIRECT_URI,
    scope: 'openid default',
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
  });
  const callback = await browserVisit(authorizeUrl);
  const tokens = await client.authorizationCodeGrant(config, callback, {
    pkceCodeVerifier: verifier,
    expectedState: state,
    expectedNonce: nonce,
    idTokenExpected: true,
  });
  const idClaims = tokens.claims();
  steps.push('code+pkce');

  const accessClaims = await validateAccessToken(config, tokens.access_token);
  check(accessClaims.sub === idClaims.sub, 'access token sub is the user');
  steps.push('rfc9068');

  const userinfo = await client.fetchUserInfo(config, tokens.access_token, idClaims.sub);
  check(typeof userinfo.preferred_username === 'string', 'userinfo preferred_username');
  steps.push('userinfo');

  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
  check(refreshed.access_token !== tokens.access_token, 'refresh gives a new access token');
  await validateAccessToken(config, refreshed.access_token);
  steps.push('refresh');

  const live = await client.tokenIntrospection(config, refreshed.access_token);
  check(live.active === true && live.client_id === RP_CLIENT_ID, 'introspection: active');
  steps.push('introspection');

  await client.tokenRevocation(config, refreshed.access_token);
  const revoked = await client.tokenIntrospection(config, refreshed.access_token);
  check(revoked.active === false, 'introspection after revocation: inactive');
  await client.tokenRevocation(config, refreshed.refresh_token);
  let refusedRefresh = false;
  try {
    await client.refreshTokenGrant(config, refreshed.refresh_token);
  } catch (error) {
    refusedRefresh = error.error === 'invalid_grant';
  }
  check(refusedRefresh, 'a revoked refresh token is invalid_grant');
  steps.push('revocation');

  // An error answer must carry iss too, or the library reports a missing issuer instead.
  const silentState = client.randomState();
  const silentUrl = client.buildAuthorizationUrl(config, {
    redirect_uri: RP_REDIRECT_URI,
    scope: 'openid',
    code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
    code_challenge_method: 'S256',
    state: silentState,
    prompt: 'none',
  });
  const errorCallback = await browserVisit(silentUrl);
  let reported = null;
  try {
    await client.authorizationCodeGrant(config, errorCallback, { expectedState: silentState });
  } catch (error) {
    reported = error instanceof client.AuthorizationResponseError ? error.error : String(error);
  }
  check(reported === 'login_required', `prompt=none without a session reports login_required (got ${reported})`);
  steps.push('error-with-iss');

  say({ ok: true, steps });
}

main().then(
  () => process.exit(0),
  (error) => {
    say({ ok: false, error: `${error.name}: ${error.message}${error.cause ? ` (${JSON.stringify(error.cause)})` : ''}` });
    process.exit(1);
  },
);
