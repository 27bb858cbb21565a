// A real OAuth 2.0 / OpenID Connect server for the key-manager adapter tests (tests/external).
//
// panva/node-oidc-provider, in memory, on 127.0.0.1. Everything is set through the environment so the
// pytest fixture can start several differently-behaving peers:
//
//   PEER_PORT (or the first argument)   port to listen on (required)
//   PEER_INITIAL_ACCESS_TOKEN           the RFC 7591 initial access token registration requires (required)
//   PEER_ROTATE_RAT                     "1" (default): every RFC 7592 update hands out a new registration
//                                       access token and kills the old one (as Keycloak does); "0": keep it
//   PEER_ROTATE_SECRET_ON_UPDATE        "1": every RFC 7592 update also issues a new client_secret;
//                                       "0" (default): updates keep the secret (plain DCR behaviour)
//   PEER_RESOURCE                       a resource indicator (RFC 8707) whose access tokens are RFC 9068
//                                       JWTs (default urn:devportal:test-api); without `resource` the
//                                       tokens are opaque
//   PEER_INTROSPECTION_CLIENT_ID/_SECRET a confidential client that may introspect any token
//   PEER_EXIT_ON_STDIN_CLOSE            "1": exit when stdin closes, so the peer never outlives the test
//                                       run that started it (even one killed with SIGKILL)
//
// Prints "ready <issuer>" on stdout once it listens.

import { randomBytes } from 'node:crypto';
import * as http from 'node:http';

import Provider, { errors } from 'oidc-provider';

const port = Number(process.argv[2] || process.env.PEER_PORT);
const initialAccessToken = process.env.PEER_INITIAL_ACCESS_TOKEN;
if (!port || !initialAccessToken) {
  console.error('usage: PEER_INITIAL_ACCESS_TOKEN=... node start.mjs <port>');
  process.exit(2);
}
const flag = (name, fallback) => (process.env[name] ?? fallback) === '1';
const rotateRat = flag('PEER_ROTATE_RAT', '1');
const rotateSecret = flag('PEER_ROTATE_SECRET_ON_UPDATE', '0');
const resource = process.env.PEER_RESOURCE || 'urn:devportal:test-api';
const introspectionClientId = process.env.PEER_INTROSPECTION_CLIENT_ID || 'introspector';
const introspectionClientSecret = process.env.PEER_INTROSPECTION_CLIENT_SECRET || randomBytes(24).toString('hex');

const issuer = `http://127.0.0.1:${port}`;
const resourceScopes = 'default read write';

const configuration = {
  clients: [
    {
      // A resource server: no grants of its own, allowed to introspect every token.
      client_id: introspectionClientId,
      client_secret: introspectionClientSecret,
      grant_types: [],
      response_types: [],
      redirect_uris: [],
    },
  ],
  scopes: ['openid', 'offline_access', ...resourceScopes.split(' ')],
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    introspection: { enabled: true },
    revocation: { enabled: true },
    registration: {
      enabled: true,
      // A stored InitialAccessToken (rather than a plain string) so that it can carry the policies
      // below: oidc-provider runs a registration's policies again on every RFC 7592 update.
      initialAccessToken: true,
      policies: {
        'rotate-secret-on-update': (ctx, properties) => {
          if (ctx.method === 'PUT') {
            properties.client_secret = randomBytes(32).toString('base64url');
          }
        },
      },
    },
    registrationManagement: { enabled: true, rotateRegistrationAccessToken: rotateRat },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => undefined,
      useGrantedResource: () => false,
      getResourceServerInfo: (ctx, indicator) => {
        if (indicator !== resource) {
          throw new errors.InvalidTarget(`unknown resource ${indicator}`);
        }
        return {
          scope: resourceScopes,
          audience: resource,
          accessTokenTTL: 3600,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'RS256' } },
        };
      },
    },
  },
  ttl: {
    ClientCredentials: 3600,
  },
};

const provider = new Provider(issuer, configuration);
// Loopback http only: tell the provider it is fine (it refuses plain http behind "production" defaults).
provider.proxy = false;

const iat = new provider.InitialAccessToken({
  jti: initialAccessToken,
  policies: rotateSecret ? ['rotate-secret-on-update'] : undefined,
});
await iat.save();

const server = http.createServer(provider.callback());
server.listen(port, '127.0.0.1', () => {
  console.log(`ready ${issuer}`);
});

const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
if (flag('PEER_EXIT_ON_STDIN_CLOSE', '0')) {
  process.stdin.on('end', stop);
  process.stdin.on('error', stop);
  process.stdin.resume();
}
