#!/usr/bin/env node
// Test OpenID Provider for liboidc integration tests.
//
// Usage: node server.mjs --dir <workdir> [--port 0] [--admin-port 0]
//                        [--short-ttl 5] [--tenants t1,t2,...]
//                        [--no-parent-watch] [--no-stdin-exit]
//
// Prints exactly one JSON line on stdout when ready; everything else goes to
// stderr. See README.md for clients, resources and admin endpoints.
//
// All key material (TLS CA, server certificate, JWS signing keys) is made with
// the openssl CLI: Node's own key generation is not used on purpose.

import { execFile as execFileCb } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as path from 'node:path';
import { promisify } from 'node:util';

const execFile = promisify(execFileCb);

// ---------------------------------------------------------------------------
// stdout is reserved for the single ready line. oidc-provider prints notices
// with console.info (stdout) and warnings with console.warn: send both to
// stderr, once per distinct message.
// ---------------------------------------------------------------------------
const seenNotices = new Set();
function toStderrOnce(...args) {
  const msg = args.map(String).join(' ');
  if (seenNotices.has(msg)) return;
  seenNotices.add(msg);
  process.stderr.write(`${msg}\n`);
}
console.log = toStderrOnce;
console.info = toStderrOnce;
console.warn = toStderrOnce;
console.debug = () => {};

function log(...args) {
  process.stderr.write(`[idp] ${args.join(' ')}\n`);
}

// Node 20 prints an ExperimentalWarning or similar for some APIs; keep them on
// stderr (default) but do not let them crash anything.
process.on('warning', (w) => log(`node warning: ${w.name}: ${w.message}`));

// Tenant names of --tenants (the same alphabet as liboidc's issuer templates).
const TENANT_RE = /^[A-Za-z0-9_-]{1,64}$/;

// ---------------------------------------------------------------------------
// Arguments
// ---------------------------------------------------------------------------
function parseArgs(argv) {
  const opts = {
    dir: undefined,
    port: 0,
    adminPort: 0,
    shortTtl: 5,
    parentWatch: true,
    stdinExit: true,
    tenants: [],
  };
  for (let i = 0; i < argv.length; i += 1) {
    const a = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) throw new Error(`missing value for ${a}`);
      i += 1;
      return argv[i];
    };
    switch (a) {
      case '--dir': opts.dir = next(); break;
      case '--port': opts.port = Number(next()); break;
      case '--admin-port': opts.adminPort = Number(next()); break;
      case '--short-ttl': opts.shortTtl = Number(next()); break;
      case '--tenants': opts.tenants = next().split(',').filter((t) => t !== ''); break;
      case '--no-parent-watch': opts.parentWatch = false; break;
      case '--no-stdin-exit': opts.stdinExit = false; break;
      case '-h':
      case '--help':
        process.stderr.write('usage: node server.mjs --dir <workdir> [--port 0] [--admin-port 0] [--short-ttl 5] [--tenants t1,t2,...] [--no-parent-watch] [--no-stdin-exit]\n');
        process.exit(0);
        break;
      default:
        throw new Error(`unknown argument: ${a}`);
    }
  }
  if (!opts.dir) throw new Error('--dir <workdir> is required');
  for (const k of ['port', 'adminPort']) {
    if (!Number.isInteger(opts[k]) || opts[k] < 0 || opts[k] > 65535) throw new Error(`invalid ${k}`);
  }
  if (!Number.isInteger(opts.shortTtl) || opts.shortTtl < 1) throw new Error('invalid --short-ttl');
  for (const t of opts.tenants) {
    if (!TENANT_RE.test(t)) throw new Error(`invalid tenant name ${JSON.stringify(t)} (1 to 64 of A-Z a-z 0-9 - _)`);
  }
  if (new Set(opts.tenants).size !== opts.tenants.length) throw new Error('a tenant is named twice in --tenants');
  opts.dir = path.resolve(opts.dir);
  return opts;
}

// ---------------------------------------------------------------------------
// openssl helpers
// ---------------------------------------------------------------------------
async function openssl(args, opts = {}) {
  try {
    return await execFile('openssl', args, { timeout: 30000, ...opts });
  } catch (err) {
    throw new Error(`openssl ${args.join(' ')} failed: ${err.stderr || err.message}`);
  }
}

function writeFileAtomic(file, data, mode = 0o600) {
  const tmp = `${file}.tmp-${process.pid}-${crypto.randomBytes(4).toString('hex')}`;
  fs.writeFileSync(tmp, data, { mode });
  fs.renameSync(tmp, file);
}

function randomSerial() {
  const b = crypto.randomBytes(16);
  b[0] &= 0x7f; // positive
  b[0] |= 0x01; // non-zero leading byte
  return `0x${b.toString('hex')}`;
}

const OPENSSL_CNF = `
[req]
distinguished_name = dn
prompt = no

[dn]
CN = liboidc test CA

[v3_ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always

[v3_server]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1,DNS:localhost
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid,issuer

[v3_client]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid,issuer

[v3_self]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
`;

// mTLS client certificates (RFC 8705), made once per work dir with the openssl CLI:
//   mtls-client.{pem,key}  issued by the test CA, subject CN=liboidc mtls client: the
//                          tls_client_auth client 'mtls-ca' (registered by subject DN)
//   mtls-other.{pem,key}   issued by the test CA, CN=liboidc other client: trusted, wrong subject
//   mtls-self.{pem,key}    self-signed: the self_signed_tls_client_auth client 'mtls-self'
//                          (its certificate registered in the client's JWKS as x5c / x5t#S256)
const MTLS_CLIENT_DN = 'CN=liboidc mtls client';
let MTLS = null; // { dir, selfJwk } once made
async function ensureClientCerts(dir, cnf, caPem, caKey) {
  const make = async (name, cn) => {
    const pem = path.join(dir, `${name}.pem`);
    const key = path.join(dir, `${name}.key`);
    if (fs.existsSync(pem) && fs.existsSync(key)) return;
    await genEcKey(`${key}.new`);
    if (name === 'mtls-self') {
      await openssl(['req', '-config', cnf, '-x509', '-new', '-key', `${key}.new`, '-sha256', '-days', '825',
        '-set_serial', randomSerial(), '-extensions', 'v3_self', '-subj', `/CN=${cn}`, '-out', `${pem}.new`]);
    } else {
      const csr = path.join(dir, `${name}.csr`);
      await openssl(['req', '-config', cnf, '-new', '-key', `${key}.new`, '-subj', `/CN=${cn}`, '-out', csr]);
      await openssl(['x509', '-req', '-in', csr, '-CA', caPem, '-CAkey', caKey, '-set_serial', randomSerial(),
        '-days', '825', '-sha256', '-extfile', cnf, '-extensions', 'v3_client', '-out', `${pem}.new`]);
      fs.rmSync(csr, { force: true });
    }
    fs.renameSync(`${key}.new`, key);
    fs.renameSync(`${pem}.new`, pem);
  };
  if (fs.existsSync(caKey)) {
    await make('mtls-client', 'liboidc mtls client');
    await make('mtls-other', 'liboidc other client');
  }
  await make('mtls-self', 'liboidc self-signed client');
  const selfPem = fs.readFileSync(path.join(dir, 'mtls-self.pem'));
  const x509 = new crypto.X509Certificate(selfPem);
  const selfJwk = {
    ...x509.publicKey.export({ format: 'jwk' }),
    use: 'sig',
    x5c: [x509.raw.toString('base64')],
    'x5t#S256': crypto.createHash('sha256').update(x509.raw).digest('base64url'),
  };
  MTLS = { dir, selfJwk };
}

// The peer certificate of the request's TLS connection, as oidc-provider's features.mTLS wants.
function peerCertificate(ctx) {
  const sock = ctx.req.socket;
  const peer = typeof sock.getPeerX509Certificate === 'function' ? sock.getPeerX509Certificate() : undefined;
  return peer ? peer.toString() : undefined;
}

async function genEcKey(file) {
  await openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', file]);
  fs.chmodSync(file, 0o600);
}

// Test CA + server certificate for 127.0.0.1 / localhost.
async function ensureTls(dir) {
  const cnf = path.join(dir, 'openssl.cnf');
  fs.writeFileSync(cnf, OPENSSL_CNF);
  const caPem = path.join(dir, 'ca.pem');
  const caKey = path.join(dir, 'ca.key');
  const srvPem = path.join(dir, 'server.pem');
  const srvKey = path.join(dir, 'server.key');

  if (!fs.existsSync(caPem)) {
    log('generating test CA');
    const tmpKey = `${caKey}.new`;
    await genEcKey(tmpKey);
    await openssl(['req', '-config', cnf, '-x509', '-new', '-key', tmpKey, '-sha256',
      '-days', '3650', '-set_serial', randomSerial(), '-extensions', 'v3_ca',
      '-subj', '/CN=liboidc test CA', '-out', `${caPem}.new`]);
    fs.renameSync(tmpKey, caKey);
    fs.renameSync(`${caPem}.new`, caPem);
    // a fresh CA invalidates any old server certificate
    fs.rmSync(srvPem, { force: true });
  } else {
    log(`reusing CA ${caPem}`);
  }

  const ca = new crypto.X509Certificate(fs.readFileSync(caPem));
  if (fs.existsSync(srvPem) && fs.existsSync(srvKey)) {
    try {
      const cert = new crypto.X509Certificate(fs.readFileSync(srvPem));
      const fresh = Date.parse(cert.validTo) > Date.now() + 24 * 3600 * 1000;
      if (cert.checkIssued(ca) && cert.verify(ca.publicKey) && fresh
        && cert.checkIP('127.0.0.1') && cert.checkHost('localhost')) {
        log('reusing server certificate');
        return { caPem, srvPem, srvKey };
      }
    } catch { /* regenerate below */ }
  }

  if (!fs.existsSync(caKey)) {
    throw new Error(`${caPem} exists but ${caKey} does not: cannot issue a server certificate (provide ca.key, or server.pem + server.key issued by that CA)`);
  }
  log('issuing server certificate for 127.0.0.1/localhost');
  const csr = path.join(dir, 'server.csr');
  await genEcKey(`${srvKey}.new`);
  await openssl(['req', '-config', cnf, '-new', '-key', `${srvKey}.new`, '-subj', '/CN=127.0.0.1', '-out', csr]);
  await openssl(['x509', '-req', '-in', csr, '-CA', caPem, '-CAkey', caKey,
    '-set_serial', randomSerial(), '-days', '825', '-sha256',
    '-extfile', cnf, '-extensions', 'v3_server', '-out', `${srvPem}.new`]);
  fs.rmSync(csr, { force: true });
  fs.renameSync(`${srvKey}.new`, srvKey);
  fs.renameSync(`${srvPem}.new`, srvPem);
  return { caPem, srvPem, srvKey };
}

// ---------------------------------------------------------------------------
// JWS signing keys (persisted in <dir>/keys/)
// ---------------------------------------------------------------------------
const KEY_TYPES = {
  rsa: ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048'],
  ec: ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'],
  ed25519: ['genpkey', '-algorithm', 'ED25519'],
  // ES512 (P-521): published after every generation's RSA/EC/Ed25519 keys (see loadJwks)
  p521: ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-521'],
};
// The key types whose JWKS order predates ES512: each generation publishes these three first.
const LEGACY_TYPES = ['rsa', 'ec', 'ed25519'];
// JWS alg -> key type
const ALG_KEY = {
  RS256: 'rsa', PS256: 'rsa', ES256: 'ec', EdDSA: 'ed25519', ES512: 'p521',
};
// The IdP's encryption key (request objects encrypted to the IdP, RFC 9101 / OIDC Core 6.1):
// RSA 2048, `use: enc`, `alg: RSA-OAEP-256`, made once per key dir, never rotated; published
// last in the JWKS.
const ENC_KEY_ARGS = ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048'];
const ENC_KEY_ALG = 'RSA-OAEP-256';

function b64u(buf) {
  return Buffer.from(buf).toString('base64url');
}

// RFC 7638 JWK thumbprint
function thumbprint(jwk) {
  let members;
  switch (jwk.kty) {
    case 'RSA': members = { e: jwk.e, kty: jwk.kty, n: jwk.n }; break;
    case 'EC': members = {
      crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y,
    }; break;
    case 'OKP': members = { crv: jwk.crv, kty: jwk.kty, x: jwk.x }; break;
    default: throw new Error(`unsupported kty ${jwk.kty}`);
  }
  return b64u(crypto.createHash('sha256').update(JSON.stringify(members)).digest());
}

function loadJwk(file, type) {
  const jwk = crypto.createPrivateKey(fs.readFileSync(file)).export({ format: 'jwk' });
  const kid = `${type}-${thumbprint(jwk).slice(0, 16)}`;
  return { ...jwk, kid, use: 'sig' };
}

function loadEncJwk(file) {
  const jwk = crypto.createPrivateKey(fs.readFileSync(file)).export({ format: 'jwk' });
  return {
    ...jwk, kid: `enc-rsa-${thumbprint(jwk).slice(0, 16)}`, use: 'enc', alg: ENC_KEY_ALG,
  };
}

class KeyManager {
  constructor(dir) {
    this.dir = path.join(dir, 'keys');
    this.stateFile = path.join(this.dir, 'keys.json');
    this.encFile = path.join(this.dir, 'enc-rsa.pem');
    fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    this.generations = []; // newest first: [{ id, created, rsa: {file,kid}, ... }]
  }

  async genKey(gen, type) {
    const file = path.join(this.dir, `gen${gen.id}-${type}.pem`);
    await openssl([...KEY_TYPES[type], '-out', `${file}.new`]);
    fs.chmodSync(`${file}.new`, 0o600);
    fs.renameSync(`${file}.new`, file);
    gen[type] = { file: path.basename(file), kid: loadJwk(file, type).kid };
  }

  async newGeneration(id) {
    const gen = { id, created: new Date().toISOString() };
    await Promise.all(Object.keys(KEY_TYPES).map((type) => this.genKey(gen, type)));
    return gen;
  }

  async ensureEncKey() {
    if (fs.existsSync(this.encFile)) return;
    await openssl([...ENC_KEY_ARGS, '-out', `${this.encFile}.new`]);
    fs.chmodSync(`${this.encFile}.new`, 0o600);
    fs.renameSync(`${this.encFile}.new`, this.encFile);
  }

  save() {
    writeFileAtomic(this.stateFile, `${JSON.stringify({ generations: this.generations }, null, 2)}\n`);
  }

  async init() {
    const enc = this.ensureEncKey(); // in parallel with the signing keys
    enc.catch(() => {}); // awaited below; no unhandled-rejection crash meanwhile
    try {
      await this.initSigning();
    } finally {
      await enc;
    }
  }

  async initSigning() {
    if (fs.existsSync(this.stateFile)) {
      try {
        const state = JSON.parse(fs.readFileSync(this.stateFile, 'utf8'));
        if (Array.isArray(state.generations) && state.generations.length) {
          this.generations = state.generations;
          // a key dir from before ES512: give its generations a P-521 key
          const missing = this.generations.filter((g) => !g.p521);
          if (missing.length) {
            await Promise.all(missing.map((g) => this.genKey(g, 'p521')));
            this.save();
          }
          this.generations.forEach((g) => LEGACY_TYPES.concat('p521').forEach((t) => loadJwk(path.join(this.dir, g[t].file), t))); // validates files
          log(`reusing signing keys (generation ${this.generations[0].id})`);
          return;
        }
      } catch (err) {
        log(`ignoring unusable ${this.stateFile}: ${err.message}`);
      }
    }
    log('generating signing keys');
    this.generations = [await this.newGeneration(1)];
    this.save();
  }

  // keep: number of generations to publish, including the new one (>= 1)
  async rotate(keep) {
    const id = Math.max(...this.generations.map((g) => g.id)) + 1;
    const gen = await this.newGeneration(id);
    const all = [gen, ...this.generations];
    this.generations = all.slice(0, keep);
    for (const old of all.slice(keep)) {
      for (const type of Object.keys(KEY_TYPES)) {
        if (old[type]) fs.rmSync(path.join(this.dir, old[type].file), { force: true });
      }
    }
    this.save();
    return gen;
  }

  // Private JWKs in JWKS order: every generation's RSA, EC, Ed25519 keys (newest generation
  // first, as before ES512 existed), then the P-521 keys (newest first), then the encryption key.
  loadJwks() {
    const keys = [];
    for (const gen of this.generations) {
      for (const type of LEGACY_TYPES) {
        keys.push(loadJwk(path.join(this.dir, gen[type].file), type));
      }
    }
    for (const gen of this.generations) {
      keys.push(loadJwk(path.join(this.dir, gen.p521.file), 'p521'));
    }
    keys.push(loadEncJwk(this.encFile));
    return keys;
  }

  encKid() {
    return loadEncJwk(this.encFile).kid;
  }

  currentKids() {
    const cur = this.generations[0];
    return Object.fromEntries(Object.entries(ALG_KEY).map(([alg, type]) => [alg, cur[type].kid]));
  }

  // every published kid, in JWKS order
  publishedKids() {
    return [
      ...this.generations.flatMap((g) => LEGACY_TYPES.map((t) => g[t].kid)),
      ...this.generations.map((g) => g.p521.kid),
      this.encKid(),
    ];
  }
}

// ---------------------------------------------------------------------------
// In-memory storage shared by every Provider instance of this process.
// oidc-provider's built-in memory adapter keeps one store per instance, which
// would drop sessions, refresh tokens, device codes and registered clients when
// /rotate swaps the instance. Nothing is persisted across restarts.
// ---------------------------------------------------------------------------
const STORE = new Map(); // key -> { value, exp (ms epoch or Infinity) }

function storeGet(key) {
  const e = STORE.get(key);
  if (!e) return undefined;
  if (e.exp <= Date.now()) {
    STORE.delete(key);
    return undefined;
  }
  return e.value;
}

function storeSet(key, value, expiresIn) {
  const exp = typeof expiresIn === 'number' ? Date.now() + expiresIn * 1000 : Infinity;
  STORE.set(key, { value, exp });
}

setInterval(() => {
  const now = Date.now();
  for (const [k, e] of STORE) if (e.exp <= now) STORE.delete(k);
}, 60000).unref();

class SharedMemoryAdapter {
  constructor(model) {
    this.model = model;
  }

  key(id) {
    return `${this.model}:${id}`;
  }

  async upsert(id, payload, expiresIn) {
    const key = this.key(id);
    if (this.model === 'Session' && payload.uid) {
      storeSet(`sessionUid:${payload.uid}`, id, expiresIn);
    }
    if (payload.userCode) {
      storeSet(`userCode:${payload.userCode}`, id, expiresIn);
    }
    if (payload.grantId) {
      const gk = `grant:${payload.grantId}`;
      const members = storeGet(gk) || new Set();
      members.add(key);
      storeSet(gk, members); // pruned lazily: members may point at expired keys
    }
    storeSet(key, payload, expiresIn);
  }

  async find(id) {
    return storeGet(this.key(id));
  }

  async findByUid(uid) {
    const id = storeGet(`sessionUid:${uid}`);
    return id === undefined ? undefined : this.find(id);
  }

  async findByUserCode(userCode) {
    const id = storeGet(`userCode:${userCode}`);
    return id === undefined ? undefined : this.find(id);
  }

  async consume(id) {
    const payload = storeGet(this.key(id));
    if (payload) payload.consumed = Math.floor(Date.now() / 1000);
  }

  async destroy(id) {
    STORE.delete(this.key(id));
  }

  async revokeByGrantId(grantId) {
    const gk = `grant:${grantId}`;
    const members = storeGet(gk);
    if (members) for (const key of members) STORE.delete(key);
    STORE.delete(gk);
  }
}

// ---------------------------------------------------------------------------
// oidc-provider configuration
// ---------------------------------------------------------------------------
const RESOURCE_SCOPE = 'read write';

function resourceTable(shortTtl) {
  return {
    'urn:liboidc:rs256': { alg: 'RS256' },
    'urn:liboidc:ps256': { alg: 'PS256' },
    'urn:liboidc:es256': { alg: 'ES256' },
    'urn:liboidc:eddsa': { alg: 'EdDSA' },
    'urn:liboidc:es512': { alg: 'ES512' },
    // RS256 JWT with a short lifetime (expiry / refresh tests)
    'urn:liboidc:short': { alg: 'RS256', ttl: shortTtl },
    // opaque (non-JWT) access token, e.g. for introspection tests
    'urn:liboidc:opaque': { opaque: true },
  };
}

const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const ECHO_GRANT = 'urn:liboidc:grant-type:echo';
const CIBA_GRANT = 'urn:openid:params:grant-type:ciba';
const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';

// Public JWKS of the private_key_jwt client, from the committed test keys (no key generation).
const here = path.dirname(new URL(import.meta.url).pathname);
function clientJwks() {
  return ['rsa', 'ec', 'ed25519'].map((n) => {
    const pem = fs.readFileSync(path.join(here, 'client-keys', `${n}.pem`));
    const jwk = crypto.createPublicKey(pem).export({ format: 'jwk' });
    return { ...jwk, kid: `client-${n}`, use: 'sig' };
  });
}

// Public JWK of a committed client key (client-keys/<name>.pem) with the given kid and use.
function clientPublicJwk(name, kid, use) {
  const pem = fs.readFileSync(path.join(here, 'client-keys', `${name}.pem`));
  return { ...crypto.createPublicKey(pem).export({ format: 'jwk' }), kid, use };
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

// The back-channel logout receiver on the admin listener (set in main once it listens).
let BACKCHANNEL_URI = null;

// Issue 14 (JOSE breadth) clients: encrypted ID tokens / UserInfo / JARM / introspection in each
// key-management family, signed (and encrypted) request objects, back-channel logout, ES512.
const ENC_SYM_SECRET = 'enc-sym-secret-0123456789abcdef0123456789abcdef0123456789abcdef';
const JOSE_CLIENTS = [
  {
    // RSA-OAEP(-256): the public half of client-keys/enc-rsa.pem (kid enc-rsa, use enc)
    client_id: 'enc-rsa',
    client_secret: 'enc-rsa-secret',
    token_endpoint_auth_method: 'client_secret_basic',
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    redirect_uris: ['http://127.0.0.1/cb'],
    post_logout_redirect_uris: ['http://127.0.0.1/logout-cb'],
    jwks: () => ({ keys: [clientPublicJwk('enc-rsa', 'enc-rsa', 'enc')] }),
    id_token_signed_response_alg: 'RS256',
    id_token_encrypted_response_alg: 'RSA-OAEP-256',
    id_token_encrypted_response_enc: 'A256GCM',
    userinfo_signed_response_alg: 'RS256',
    userinfo_encrypted_response_alg: 'RSA-OAEP-256',
    userinfo_encrypted_response_enc: 'A128CBC-HS256',
    authorization_signed_response_alg: 'RS256',
    authorization_encrypted_response_alg: 'RSA-OAEP',
    authorization_encrypted_response_enc: 'A256CBC-HS512',
    introspection_signed_response_alg: 'RS256',
    introspection_encrypted_response_alg: 'RSA-OAEP-256',
    introspection_encrypted_response_enc: 'A192GCM',
  },
  {
    // ECDH-ES(+AxxxKW): the public half of client-keys/enc-ec.pem (kid enc-ec, P-256, use enc)
    client_id: 'enc-ec',
    client_secret: 'enc-ec-secret',
    token_endpoint_auth_method: 'client_secret_basic',
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    redirect_uris: ['http://127.0.0.1/cb'],
    jwks: () => ({ keys: [clientPublicJwk('enc-ec', 'enc-ec', 'enc')] }),
    id_token_signed_response_alg: 'ES256',
    id_token_encrypted_response_alg: 'ECDH-ES+A128KW',
    id_token_encrypted_response_enc: 'A128CBC-HS256',
    userinfo_signed_response_alg: 'ES256',
    userinfo_encrypted_response_alg: 'ECDH-ES',
    userinfo_encrypted_response_enc: 'A256GCM',
    authorization_signed_response_alg: 'ES256',
    authorization_encrypted_response_alg: 'ECDH-ES+A256KW',
    authorization_encrypted_response_enc: 'A192CBC-HS384',
    introspection_signed_response_alg: 'ES256',
    introspection_encrypted_response_alg: 'ECDH-ES+A192KW',
    introspection_encrypted_response_enc: 'A128GCM',
  },
  {
    // AxxxKW: keys derived from the client secret (OIDC Core 10.2: the leftmost bits of its
    // SHA-256 digest; oidc-provider uses SHA-384/512 above 32 bytes)
    client_id: 'enc-sym',
    client_secret: ENC_SYM_SECRET,
    token_endpoint_auth_method: 'client_secret_basic',
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    redirect_uris: ['http://127.0.0.1/cb'],
    id_token_signed_response_alg: 'RS256',
    id_token_encrypted_response_alg: 'A128KW',
    id_token_encrypted_response_enc: 'A128GCM',
    userinfo_signed_response_alg: 'RS256',
    userinfo_encrypted_response_alg: 'A256KW',
    userinfo_encrypted_response_enc: 'A256CBC-HS512',
    authorization_signed_response_alg: 'RS256',
    authorization_encrypted_response_alg: 'A192KW',
    authorization_encrypted_response_enc: 'A192GCM',
  },
  {
    // JAR (RFC 9101): every authorization request (at /auth and at PAR) must be a request
    // object signed PS256 with client-keys/rsa.pem (kid client-rsa); it may be encrypted to the
    // IdP's `use: enc` key (RSA-OAEP-256) or with a key derived from the secret (AxxxKW).
    client_id: 'jar-app',
    client_secret: 'jar-app-secret',
    token_endpoint_auth_method: 'client_secret_basic',
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    redirect_uris: ['http://127.0.0.1/cb'],
    jwks: () => ({ keys: [clientPublicJwk('rsa', 'client-rsa', 'sig'), clientPublicJwk('ec', 'client-ec', 'sig')] }),
    require_signed_request_object: true,
    request_object_signing_alg: 'PS256',
  },
  {
    // OpenID Connect Back-Channel Logout: logout tokens are POSTed to the admin listener's
    // receiver (GET ADMIN/backchannel lists them).
    client_id: 'bcl-app',
    client_secret: 'bcl-app-secret',
    token_endpoint_auth_method: 'client_secret_basic',
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    redirect_uris: ['http://127.0.0.1/cb'],
    post_logout_redirect_uris: ['http://127.0.0.1/logout-cb'],
    backchannel_logout_uri: () => BACKCHANNEL_URI,
    backchannel_logout_session_required: true,
  },
  {
    // ES512 ID tokens (P-521)
    client_id: 'es512-app',
    client_secret: 'es512-app-secret',
    token_endpoint_auth_method: 'client_secret_basic',
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    redirect_uris: ['http://127.0.0.1/cb'],
    id_token_signed_response_alg: 'ES512',
    userinfo_signed_response_alg: 'ES512',
  },
];

const CLIENTS = [
  {
    // RFC 8705 tls_client_auth: a CA-issued certificate with this subject; bound access tokens.
    client_id: 'mtls-ca',
    token_endpoint_auth_method: 'tls_client_auth',
    tls_client_auth_subject_dn: MTLS_CLIENT_DN,
    tls_client_certificate_bound_access_tokens: true,
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
  },
  {
    // RFC 8705 self_signed_tls_client_auth: the certificate registered in its JWKS (added in
    // makeConfig); bound access tokens.
    client_id: 'mtls-self',
    token_endpoint_auth_method: 'self_signed_tls_client_auth',
    tls_client_certificate_bound_access_tokens: true,
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
  },
  {
    client_id: 'svc-basic',
    client_secret: 'svc-basic-secret',
    token_endpoint_auth_method: 'client_secret_basic',
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
  },
  {
    client_id: 'svc-post',
    client_secret: 'svc-post-secret',
    token_endpoint_auth_method: 'client_secret_post',
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
  },
  {
    client_id: 'web-app',
    client_secret: 'web-app-secret',
    token_endpoint_auth_method: 'client_secret_basic',
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    redirect_uris: ['http://127.0.0.1/cb', 'https://127.0.0.1/cb', 'http://localhost/cb'],
    post_logout_redirect_uris: ['http://127.0.0.1/logout-cb'],
  },
  {
    client_id: 'native-app',
    application_type: 'native',
    token_endpoint_auth_method: 'none',
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    // native + loopback: any port is accepted (RFC 8252 7.3)
    redirect_uris: ['http://127.0.0.1/cb'],
  },
  {
    // client_secret_jwt (RFC 7523 assertion, HS256 with the secret)
    client_id: 'svc-secret-jwt',
    client_secret: 'svc-secret-jwt-secret-0123456789abcdef0123456789',
    token_endpoint_auth_method: 'client_secret_jwt',
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
  },
  {
    // private_key_jwt; the public keys of tests/idp/client-keys/{rsa,ec,ed25519}.pem are
    // registered as its JWKS (added in makeConfig). Also the client of the custom grants
    // (token exchange, JWT bearer, echo) and of CIBA (poll mode).
    client_id: 'svc-pkjwt',
    token_endpoint_auth_method: 'private_key_jwt',
    grant_types: ['client_credentials', TOKEN_EXCHANGE, JWT_BEARER, ECHO_GRANT, CIBA_GRANT],
    response_types: [],
    redirect_uris: [],
    backchannel_token_delivery_mode: 'poll',
  },
  {
    client_id: 'device-app',
    token_endpoint_auth_method: 'none',
    grant_types: ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token'],
    response_types: [],
    redirect_uris: [],
  },
];

// Tenant Providers only (--tenants): client credentials like svc-basic, but its access tokens
// name another tenant in `tid` (see buildProvider).
const TENANTS_PREFIX = '/tenants/';

const FOREIGN_CLIENT = {
  client_id: 'svc-foreign',
  client_secret: 'svc-foreign-secret',
  token_endpoint_auth_method: 'client_secret_basic',
  grant_types: ['client_credentials'],
  response_types: [],
  redirect_uris: [],
};

const ACCOUNT = {
  sub: 'user-1',
  email: 'user-1@liboidc.test',
  email_verified: true,
  name: 'Test User One',
  preferred_username: 'user1',
};

const SIG_ALGS = ['RS256', 'PS256', 'ES256', 'ES512', 'Ed25519', 'EdDSA'];
const ENC_ALGS = ['RSA-OAEP', 'RSA-OAEP-256', 'ECDH-ES', 'ECDH-ES+A128KW', 'ECDH-ES+A192KW', 'ECDH-ES+A256KW',
  'A128KW', 'A192KW', 'A256KW', 'dir'];
const ENC_ENCS = ['A128GCM', 'A192GCM', 'A256GCM', 'A128CBC-HS256', 'A192CBC-HS384', 'A256CBC-HS512'];
const ENABLED_JWA = {
  idTokenSigningAlgValues: SIG_ALGS,
  userinfoSigningAlgValues: SIG_ALGS,
  introspectionSigningAlgValues: SIG_ALGS,
  authorizationSigningAlgValues: SIG_ALGS,
  requestObjectSigningAlgValues: ['HS256', ...SIG_ALGS],
  idTokenEncryptionAlgValues: ENC_ALGS,
  userinfoEncryptionAlgValues: ENC_ALGS,
  introspectionEncryptionAlgValues: ENC_ALGS,
  authorizationEncryptionAlgValues: ENC_ALGS,
  requestObjectEncryptionAlgValues: ENC_ALGS,
  idTokenEncryptionEncValues: ENC_ENCS,
  userinfoEncryptionEncValues: ENC_ENCS,
  introspectionEncryptionEncValues: ENC_ENCS,
  authorizationEncryptionEncValues: ENC_ENCS,
  requestObjectEncryptionEncValues: ENC_ENCS,
};

function makeConfig({ jwks, keys, shortTtl }) {
  const resources = resourceTable(shortTtl);
  const kids = keys.currentKids();
  return {
    adapter: SharedMemoryAdapter,
    clients: [...CLIENTS.map((c) => {
      if (c.token_endpoint_auth_method === 'private_key_jwt') return { ...c, jwks: { keys: clientJwks() } };
      if (c.token_endpoint_auth_method === 'self_signed_tls_client_auth') return { ...c, jwks: { keys: [MTLS.selfJwk] } };
      return { ...c };
    }), ...JOSE_CLIENTS.map((c) => Object.fromEntries(Object.entries(c).map(([k, v]) => [k, typeof v === 'function' ? v() : v])))],
    jwks: { keys: jwks },
    clientAuthMethods: ['client_secret_basic', 'client_secret_jwt', 'client_secret_post', 'private_key_jwt', 'none',
      'tls_client_auth', 'self_signed_tls_client_auth'],
    cookies: {
      // fixed so sessions/interactions survive a provider swap on /rotate
      keys: ['liboidc-test-idp-cookie-key-1'],
    },
    scopes: ['openid', 'offline_access', 'email', 'profile'],
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name', 'preferred_username'],
    },
    async findAccount(ctx, sub) {
      // every login maps to the same fixed test account
      return {
        accountId: sub,
        async claims() {
          return { ...ACCOUNT, sub };
        },
      };
    },
    pkce: { required: () => true },
    issueRefreshToken: async (ctx, client) => client.grantTypeAllowed('refresh_token'),
    rotateRefreshToken: () => true,
    // Issue 14: every JWS alg oidc-provider's defaults have plus ES512; JWE: RSA-OAEP(-256),
    // ECDH-ES(+A128KW/A192KW/A256KW), A128KW/A192KW/A256KW, dir with all six content
    // encryptions. RSA1_5 is not offered: oidc-provider 9 does not implement it at all.
    enabledJWA: ENABLED_JWA,
    features: {
      devInteractions: { enabled: true },
      // encrypted ID tokens, UserInfo, JARM and introspection responses; encrypted request objects
      encryption: { enabled: true },
      // JAR (RFC 9101) at /auth and PAR; required per client (jar-app)
      requestObjects: { enabled: true, requireSignedRequestObject: false },
      // logout tokens POSTed to backchannel_logout_uri at RP-initiated logout
      backchannelLogout: { enabled: true },
      clientCredentials: { enabled: true },
      introspection: { enabled: true },
      // RFC 9701 signed introspection responses (on Accept: application/token-introspection+jwt)
      jwtIntrospection: { enabled: true },
      // signed UserInfo responses for clients registered with userinfo_signed_response_alg
      jwtUserinfo: { enabled: true },
      // JARM (response_mode=jwt / query.jwt / fragment.jwt / form_post.jwt)
      jwtResponseModes: { enabled: true },
      revocation: { enabled: true },
      // RFC 8705: the TLS server requests (never requires) a client certificate, verified
      // against the test CA without rejecting the handshake; the peer certificate is handed
      // over here.
      mTLS: {
        enabled: true,
        certificateBoundAccessTokens: true,
        selfSignedTlsClientAuth: true,
        tlsClientAuth: true,
        getCertificate: peerCertificate,
        certificateAuthorized: (ctx) => ctx.req.socket.authorized === true,
        certificateSubjectMatches: (ctx, property, expected) => {
          if (property !== 'tls_client_auth_subject_dn') return false;
          const pem = peerCertificate(ctx);
          return !!pem && new crypto.X509Certificate(pem).subject === expected;
        },
      },
      userinfo: { enabled: true },
      deviceFlow: { enabled: true },
      registration: { enabled: true, initialAccessToken: false },
      registrationManagement: { enabled: true, rotateRegistrationAccessToken: false },
      pushedAuthorizationRequests: { enabled: true },
      rpInitiatedLogout: { enabled: true },
      // RFC 9449: every DPoP proof must carry a server nonce (so clients exercise the
      // use_dpop_nonce retry); requests without a DPoP header are unaffected.
      dPoP: { enabled: true, nonceSecret: DPOP_NONCE_SECRET, requireNonce: () => true },
      // CIBA poll mode: the "authentication device" is the admin endpoint
      // POST /ciba/approve?auth_req_id=..[&deny=1] (see README).
      ciba: {
        enabled: true,
        deliveryModes: ['poll'],
        processLoginHint: async (ctx, loginHint) => loginHint,
        processLoginHintToken: async () => { throw new errors.InvalidRequest('login_hint_token is not supported'); },
        validateRequestContext: async () => {},
        verifyUserCode: async () => {},
        triggerAuthenticationDevice: async (ctx, request) => {
          CIBA_PENDING.set(request.jti, request.accountId);
        },
      },
      resourceIndicators: {
        enabled: true,
        getResourceServerInfo: async (ctx, resourceIndicator) => {
          const r = resources[resourceIndicator];
          if (!r) {
            throw new errors.InvalidTarget(`unknown resource indicator: ${resourceIndicator}`);
          }
          if (r.opaque) {
            return { audience: resourceIndicator, scope: RESOURCE_SCOPE, accessTokenFormat: 'opaque' };
          }
          const info = {
            audience: resourceIndicator,
            scope: RESOURCE_SCOPE,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: r.alg, kid: kids[r.alg] } },
          };
          if (r.ttl) info.accessTokenTTL = r.ttl;
          return info;
        },
      },
    },
    ttl: {
      AccessToken: (ctx, token) => token.resourceServer?.accessTokenTTL || 3600,
      AuthorizationCode: 60,
      ClientCredentials: (ctx, token) => token.resourceServer?.accessTokenTTL || 600,
      DeviceCode: 600,
      Grant: 14 * 24 * 3600,
      IdToken: 3600,
      Interaction: 3600,
      RefreshToken: 14 * 24 * 3600,
      Session: 14 * 24 * 3600,
    },
    clientBasedCORS: () => true,
    // oidc-provider refuses outgoing requests to special-use addresses (SSRF protection), which
    // includes loopback: requests to 127.0.0.1 / localhost / [::1] (the back-channel logout
    // receiver, a test's own receiver or jwks_uri) go without its dispatcher; others keep it.
    fetch: (url, options) => {
      if (LOOPBACK_HOSTS.has(new URL(url).hostname)) {
        const { dispatcher, ...rest } = options; // eslint-disable-line no-unused-vars
        return globalThis.fetch(url, rest);
      }
      return globalThis.fetch(url, options);
    },
    renderError: async (ctx, out) => {
      ctx.type = 'json';
      ctx.body = out;
    },
  };
}

// logout tokens POSTed to ADMIN/backchannel, oldest first (at most 1000 kept)
const BACKCHANNEL_LOG = [];

function readBody(req, limit) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (c) => {
      size += c.length;
      if (size > limit) {
        reject(new Error('request body too large'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

let Provider;
let errors;
let jose;
const DPOP_NONCE_SECRET = crypto.randomBytes(32);
const CIBA_PENDING = new Map(); // auth_req_id -> accountId, for the admin approval endpoint

// Custom grants (oidc-provider has no built-in token exchange or JWT bearer grant): registered
// with provider.registerGrantType. They issue ClientCredentials-model access tokens.
function registerCustomGrants(provider) {
  const issue = async (ctx, extra, body = {}) => {
    const { ClientCredentials } = ctx.oidc.provider;
    const token = new ClientCredentials({ client: ctx.oidc.client, scope: ctx.oidc.params.scope || undefined, extra });
    const value = await token.save();
    ctx.body = { access_token: value, token_type: 'Bearer', expires_in: token.expiration, ...body };
  };
  // RFC 8693 token exchange: the subject token must be an access token this IdP issued.
  provider.registerGrantType(TOKEN_EXCHANGE, async (ctx) => {
    const p = ctx.oidc.params;
    if (!p.subject_token) throw new errors.InvalidRequest('missing subject_token');
    if (p.subject_token_type !== ACCESS_TOKEN_TYPE) throw new errors.InvalidRequest('unsupported subject_token_type');
    const { AccessToken, ClientCredentials } = ctx.oidc.provider;
    const subject = (await ClientCredentials.find(p.subject_token)) || (await AccessToken.find(p.subject_token));
    if (!subject) throw new errors.InvalidGrant('subject_token is invalid or expired');
    await issue(ctx, { exchanged_from: subject.clientId, audience: p.audience || null },
      { issued_token_type: ACCESS_TOKEN_TYPE });
  }, ['subject_token', 'subject_token_type', 'requested_token_type', 'audience', 'scope', 'actor_token', 'actor_token_type']);
  // RFC 7523 JWT bearer grant: the assertion is signed with one of the client's registered
  // keys, iss = client_id, aud = issuer, with sub and exp.
  provider.registerGrantType(JWT_BEARER, async (ctx) => {
    const { assertion } = ctx.oidc.params;
    if (!assertion) throw new errors.InvalidRequest('missing assertion');
    let payload;
    try {
      const jwks = jose.createLocalJWKSet({ keys: clientJwks() });
      ({ payload } = await jose.jwtVerify(assertion, jwks, {
        issuer: ctx.oidc.client.clientId, audience: ctx.oidc.provider.issuer, requiredClaims: ['sub', 'exp'],
      }));
    } catch (e) {
      throw new errors.InvalidGrant(`assertion rejected: ${e.code || e.message}`);
    }
    await issue(ctx, { assertion_sub: payload.sub });
  }, ['assertion', 'scope']);
  // A custom grant with extra parameters: echoes them back in the response.
  provider.registerGrantType(ECHO_GRANT, async (ctx) => {
    const { color, size } = ctx.oidc.params;
    if (!color) throw new errors.InvalidRequest('missing color');
    await issue(ctx, {}, { echo: { color, size: size || null } });
  }, ['color', 'size', 'scope']);
}

// tenant (with --tenants): { name, foreignTid } for a tenant's Provider: its access tokens
// carry `tid: name`, except those of the client `svc-foreign`, which carry `tid: foreignTid`
// (another tenant's name: a token whose tenant claim disagrees with its issuer).
function buildProvider(issuer, keys, shortTtl, tenant = undefined) {
  const config = makeConfig({ jwks: keys.loadJwks(), keys, shortTtl });
  if (tenant) {
    config.clients.push({ ...FOREIGN_CLIENT });
    config.extraTokenClaims = async (ctx, token) => ({
      tid: token.clientId === FOREIGN_CLIENT.client_id ? tenant.foreignTid : tenant.name,
    });
  }
  // RFC 8705 §5: the mTLS aliases name the same server as https://localhost:PORT (its
  // certificate covers both names), so a test can see which one a client used (/stats hosts).
  const alias = issuer.replace('https://127.0.0.1:', 'https://localhost:');
  config.discovery = {
    mtls_endpoint_aliases: {
      token_endpoint: `${alias}/token`,
      revocation_endpoint: `${alias}/token/revocation`,
      introspection_endpoint: `${alias}/token/introspection`,
      pushed_authorization_request_endpoint: `${alias}/request`,
    },
  };
  const provider = new Provider(issuer, config);
  registerCustomGrants(provider);
  provider.on('server_error', (ctx, err) => log(`server_error ${ctx.method} ${ctx.path}: ${err.stack || err}`));
  provider.on('backchannel.error', (ctx, err, client) => log(`backchannel logout to ${client.clientId} failed: ${err.message}${err.cause ? ` (${err.cause.message || err.cause})` : ''}`));
  if (process.env.IDP_DEBUG) {
    for (const ev of ['grant.error', 'authorization.error', 'introspection.error', 'revocation.error', 'registration_create.error', 'userinfo.error']) {
      provider.on(ev, (ctx, err) => log(`${ev}: ${err.message} ${err.error_description || ''}`));
    }
  }
  return provider;
}

// ---------------------------------------------------------------------------
// main
// ---------------------------------------------------------------------------
async function main() {
  const opts = parseArgs(process.argv.slice(2));
  fs.mkdirSync(opts.dir, { recursive: true });

  const importProvider = Promise.all([import('oidc-provider'), import('jose')]).then(([m, j]) => {
    Provider = m.default;
    errors = m.errors;
    jose = j;
  });
  const [tls] = await Promise.all([ensureTls(opts.dir), importProvider]);
  await ensureClientCerts(opts.dir, path.join(opts.dir, 'openssl.cnf'), tls.caPem, path.join(opts.dir, 'ca.key'));
  const keys = new KeyManager(opts.dir);
  await keys.init();

  const stats = {
    started: new Date().toISOString(), total: 0, paths: {}, hosts: {}, rotations: 0,
  };
  // --tenants: one Provider per tenant at ISSUER/tenants/<name>, with its own signing keys
  // (<dir>/tenants/<name>/keys/), made before listening.
  const tenants = new Map(); // name -> { keys, handler, issuer }
  const tenantKeys = await Promise.all(opts.tenants.map(async (name) => {
    const k = new KeyManager(path.join(opts.dir, 'tenants', name));
    await k.init();
    return k;
  }));
  if (opts.tenants.length) stats.unknown_tenants = 0;
  let handler = (req, res) => {
    res.statusCode = 503;
    res.end('starting');
  };

  const server = https.createServer({
    key: fs.readFileSync(tls.srvKey),
    cert: fs.readFileSync(tls.srvPem),
    // mTLS (RFC 8705): ask for a client certificate, verify it against the test CA, never
    // refuse the handshake (clients without one, and self-signed ones, go on as before).
    requestCert: true,
    rejectUnauthorized: false,
    ca: [fs.readFileSync(tls.caPem)],
  }, (req, res) => {
    const p = (req.url || '/').split('?')[0];
    stats.total += 1;
    const h = String(req.headers.host || '').replace(/:\d+$/, '');
    stats.hosts[h] = (stats.hosts[h] || 0) + 1;
    stats.paths[p] = (stats.paths[p] || 0) + 1;
    if (tenants.size && p.startsWith(TENANTS_PREFIX)) {
      // /tenants/<name>[/rest]: the tenant's Provider sees /rest; it derives its mount path
      // (/tenants/<name>) from req.originalUrl minus req.url, as when mounted by express.
      const name = p.slice(TENANTS_PREFIX.length).split('/')[0];
      const t = tenants.get(name);
      if (!t) {
        stats.unknown_tenants += 1;
        res.writeHead(404, { 'content-type': 'application/json', 'cache-control': 'no-store' });
        res.end(`${JSON.stringify({ error: 'not_found', error_description: 'unknown tenant' })}\n`);
        return;
      }
      const original = req.url;
      const rest = original.slice(TENANTS_PREFIX.length + name.length);
      req.originalUrl = original;
      req.url = rest.startsWith('/') ? rest : `/${rest}`;
      t.handler(req, res);
      return;
    }
    handler(req, res);
  });
  server.keepAliveTimeout = 5000;
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, '127.0.0.1', resolve);
  });
  const { port } = server.address();
  const issuer = `https://127.0.0.1:${port}`;

  // built once the admin listener (the back-channel logout receiver) has its port
  let provider;

  // serialised key rotation: build a new Provider with the new JWKS and swap
  let rotating = Promise.resolve();
  function rotate(keep) {
    const run = rotating.then(async () => {
      const gen = await keys.rotate(keep);
      provider = buildProvider(issuer, keys, opts.shortTtl);
      handler = provider.callback();
      stats.rotations += 1;
      log(`rotated keys: generation ${gen.id}, publishing ${keys.generations.length} generation(s)`);
      return {
        generation: gen.id,
        kids: keys.currentKids(),
        published_kids: keys.publishedKids(),
      };
    });
    rotating = run.catch(() => {});
    return run;
  }

  let shuttingDown = false;
  const admin = http.createServer(async (req, res) => {
    const url = new URL(req.url || '/', 'http://127.0.0.1');
    const send = (code, body) => {
      res.writeHead(code, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(`${JSON.stringify(body)}\n`);
    };
    try {
      if (req.method === 'GET' && url.pathname === '/stats') {
        return send(200, {
          ...stats,
          jwks: stats.paths['/jwks'] || 0,
          discovery: stats.paths['/.well-known/openid-configuration'] || 0,
          token: stats.paths['/token'] || 0,
          kids: keys.currentKids(),
          published_kids: keys.publishedKids(),
        });
      }
      if (req.method === 'POST' && url.pathname === '/stats/reset') {
        stats.total = 0;
        stats.paths = {};
        stats.hosts = {};
        if (tenants.size) stats.unknown_tenants = 0;
        return send(200, { ok: true });
      }
      if (req.method === 'GET' && url.pathname === '/keys') {
        return send(200, {
          generation: keys.generations[0].id,
          kids: keys.currentKids(),
          published_kids: keys.publishedKids(),
          enc_kid: keys.encKid(),
        });
      }
      if (req.method === 'POST' && url.pathname === '/rotate') {
        let keep = 2;
        if (url.searchParams.get('drop_old') === '1' || url.searchParams.get('drop_old') === 'true') keep = 1;
        if (url.searchParams.has('keep')) {
          keep = Number(url.searchParams.get('keep'));
          if (!Number.isInteger(keep) || keep < 1) return send(400, { error: 'keep must be an integer >= 1' });
        }
        return send(200, await rotate(keep));
      }
      if (req.method === 'POST' && url.pathname === '/ciba/approve') {
        // CIBA "authentication device": approve (or with deny=1 deny) a pending request.
        const id = url.searchParams.get('auth_req_id') || '';
        const accountId = CIBA_PENDING.get(id);
        if (!accountId) return send(404, { error: 'unknown auth_req_id' });
        CIBA_PENDING.delete(id);
        const request = await provider.BackchannelAuthenticationRequest.find(id);
        if (!request) return send(404, { error: 'request expired' });
        if (url.searchParams.get('deny') === '1') {
          await provider.backchannelResult(request, new errors.AccessDenied('denied by the test'));
          return send(200, { ok: true, denied: true });
        }
        const grant = new provider.Grant({ clientId: request.clientId, accountId });
        grant.addOIDCScope(request.scope);
        await grant.save();
        await provider.backchannelResult(request, grant, { authTime: Math.floor(Date.now() / 1000) });
        return send(200, { ok: true, accountId });
      }
      if (req.method === 'POST' && url.pathname === '/backchannel') {
        // the back-channel logout receiver of bcl-app: records the logout_token form field
        const body = await readBody(req, 64 * 1024);
        const token = new URLSearchParams(body.toString('utf8')).get('logout_token');
        if (!token) return send(400, { error: 'missing logout_token' });
        BACKCHANNEL_LOG.push({
          logout_token: token,
          content_type: String(req.headers['content-type'] || ''),
          received_at: Math.floor(Date.now() / 1000),
        });
        if (BACKCHANNEL_LOG.length > 1000) BACKCHANNEL_LOG.shift();
        res.writeHead(200, { 'cache-control': 'no-store' });
        return res.end();
      }
      if (req.method === 'GET' && url.pathname === '/backchannel') {
        return send(200, BACKCHANNEL_LOG);
      }
      if (req.method === 'POST' && url.pathname === '/backchannel/reset') {
        BACKCHANNEL_LOG.length = 0;
        return send(200, { ok: true });
      }
      if (req.method === 'POST' && url.pathname === '/shutdown') {
        send(200, { ok: true });
        setImmediate(() => shutdown('POST /shutdown'));
        return undefined;
      }
      return send(404, { error: 'not found', endpoints: ['GET /stats', 'POST /stats/reset', 'GET /keys', 'POST /rotate[?drop_old=1|?keep=N]', 'POST /ciba/approve?auth_req_id=ID[&deny=1]', 'POST /backchannel (receiver)', 'GET /backchannel', 'POST /backchannel/reset', 'POST /shutdown'] });
    } catch (err) {
      log(`admin error: ${err.stack || err}`);
      return send(500, { error: String(err.message || err) });
    }
  });
  await new Promise((resolve, reject) => {
    admin.once('error', reject);
    admin.listen(opts.adminPort, '127.0.0.1', resolve);
  });
  const adminPort = admin.address().port;
  BACKCHANNEL_URI = `http://127.0.0.1:${adminPort}/backchannel`;

  provider = buildProvider(issuer, keys, opts.shortTtl);
  handler = provider.callback();
  opts.tenants.forEach((name, i) => {
    const tIssuer = `${issuer}${TENANTS_PREFIX}${name}`;
    const foreignTid = opts.tenants.length > 1 ? opts.tenants[(i + 1) % opts.tenants.length] : `${name}-other`;
    const p = buildProvider(tIssuer, tenantKeys[i], opts.shortTtl, { name, foreignTid });
    tenants.set(name, { keys: tenantKeys[i], issuer: tIssuer, handler: p.callback() });
  });

  function shutdown(why) {
    if (shuttingDown) return;
    shuttingDown = true;
    log(`shutting down (${why})`);
    let open = 2;
    const closed = () => {
      open -= 1;
      if (open === 0) process.exit(0);
    };
    server.close(closed);
    admin.close(closed);
    server.closeAllConnections();
    admin.closeAllConnections();
    setTimeout(() => process.exit(0), 1000);
  }
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGHUP', () => shutdown('SIGHUP'));
  process.stdout.on('error', () => shutdown('stdout closed'));

  // Die with the test process: EOF on a piped stdin, or the parent going away.
  if (opts.stdinExit) {
    let st;
    try { st = fs.fstatSync(0); } catch { st = undefined; }
    if (st && (st.isFIFO() || st.isSocket())) {
      process.stdin.on('end', () => shutdown('stdin closed'));
      process.stdin.on('error', () => shutdown('stdin error'));
      process.stdin.on('data', () => {});
      process.stdin.resume();
    }
  }
  if (opts.parentWatch) {
    const ppid = process.ppid;
    log(`watching parent pid ${ppid}`);
    setInterval(() => {
      if (process.ppid !== ppid) shutdown('parent process exited');
    }, 500).unref();
  }

  const ready = {
    issuer,
    port,
    admin: `http://127.0.0.1:${adminPort}`,
    ca_file: path.resolve(tls.caPem),
    jwks_uri: `${issuer}/jwks`,
    token_endpoint: `${issuer}/token`,
    pid: process.pid,
    dir: opts.dir,
  };
  if (tenants.size) ready.tenants = Object.fromEntries([...tenants].map(([n, t]) => [n, t.issuer]));
  process.stdout.write(`${JSON.stringify(ready)}\n`);
  log(`ready: ${issuer} (admin http://127.0.0.1:${adminPort})`);
}

main().catch((err) => {
  log(`fatal: ${err.stack || err}`);
  process.exit(1);
});
