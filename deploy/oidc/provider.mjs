// An OpenID provider on this machine for `make prod-check` and the integration tests: the certified
// oidc-provider package, configured here. Operators run Keycloak (docker-compose.yml, profile idp) or their own
// provider instead; this one keeps everything in memory and logs people in without a password (the package's
// development login), so it is for loopback only.
//
//   OIDC_ISSUER      the issuer, e.g. http://127.0.0.1:18080 (the port is taken from it)
//   OIDC_CONFIG      a JSON file: {"audience", "signing_keys": [private JWKs], "clients": [...], "accounts": [...]}
//                    written by lianxin.oidc (random client secrets, a fresh RSA key); never committed.
//
// Access tokens are JWTs (RFC 9068) for the resource `urn:lianxin` with `aud` = the configured audience:
//   * client credentials (RFC 6749 section 4.4): a service's client; `roles: ["service"]`, the scopes asked for
//     out of those the client may have (registry:letter-facts, registry:names, registry:phones);
//   * authorization code + PKCE: the console; the person's `tenant`, `roles` and `orgs` as claims.
import { readFileSync } from 'node:fs';
import Provider from 'oidc-provider';

const issuer = process.env.OIDC_ISSUER;
const config = JSON.parse(readFileSync(process.env.OIDC_CONFIG, 'utf8'));
const RESOURCE = 'urn:lianxin';
const SERVICE_SCOPES = ['registry:letter-facts', 'registry:names', 'registry:phones'];
// People are read afresh on each login, so a test or prod-check can add one while the provider runs.
const account = (sub) => JSON.parse(readFileSync(process.env.OIDC_CONFIG, 'utf8')).accounts.find((a) => a.sub === sub);
const servicesByClient = new Map(config.clients.filter((c) => c.service_scopes).map((c) => [c.client_id, c]));

const provider = new Provider(issuer, {
  clients: config.clients.map(({ service_scopes, ...client }) => client),
  jwks: { keys: config.signing_keys },
  scopes: ['openid', 'profile', 'lianxin', ...SERVICE_SCOPES],
  claims: { openid: ['sub'], lianxin: ['tenant', 'roles', 'orgs'] },
  features: {
    devInteractions: { enabled: true },
    clientCredentials: { enabled: true },
    introspection: { enabled: false },
    revocation: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => RESOURCE,
      useGrantedResource: () => true,
      getResourceServerInfo: (ctx, resource, client) => {
        if (resource !== RESOURCE) throw new Error(`unknown resource ${resource}`);
        const service = servicesByClient.get(client.clientId);
        return {
          // A service's client may ask only for its own scopes; a person's client for none of them.
          scope: service ? service.service_scopes.join(' ') : 'lianxin',
          audience: config.audience,
          accessTokenFormat: 'jwt',
          accessTokenTTL: service ? 300 : 3600,
          jwt: { sign: { alg: 'RS256' } },
        };
      },
    },
  },
  pkce: { required: () => true },
  async findAccount(ctx, sub) {
    const person = account(sub);
    if (!person) return undefined;
    return {
      accountId: sub,
      async claims() {
        return { sub, tenant: person.tenant, roles: person.roles, orgs: person.orgs ?? [] };
      },
    };
  },
  async extraTokenClaims(ctx, token) {
    if (token.kind !== 'AccessToken' && token.kind !== 'ClientCredentials') return undefined;
    if (token.kind === 'ClientCredentials') {
      return servicesByClient.has(token.clientId) ? { roles: ['service'] } : undefined;
    }
    const person = account(token.accountId);
    return person ? { tenant: person.tenant, roles: person.roles, orgs: person.orgs ?? [] } : undefined;
  },
  loadExistingGrant: async (ctx) => {
    // The console is the platform's own first-party client: no consent screen.
    const grantId = ctx.oidc.result?.consent?.grantId
      || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope('openid profile lianxin');
    grant.addResourceScope(RESOURCE, 'lianxin');
    await grant.save();
    return grant;
  },
  ttl: { AccessToken: 3600, ClientCredentials: 300, AuthorizationCode: 60, IdToken: 3600, Session: 3600, Grant: 3600, Interaction: 600 },
});
provider.proxy = true;

const port = Number(new URL(issuer).port || 80);
provider.listen(port, '127.0.0.1', () => {
  console.log(`oidc-provider listening on ${issuer}`);
});
