// Password authentication: cleartext, md5 and SCRAM-SHA-256 (RFC 5802 / 7677
// as Postgres uses it: the user name inside the SCRAM messages is ignored in
// favour of the startup packet's, and only the SCRAM-SHA-256 mechanism,
// without channel binding, is offered).

import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';

export type AuthMethod = 'trust' | 'password' | 'md5' | 'scram-sha-256';

/** What the server stores for a user. Any field may be absent; methods use what they can. */
export interface UserCredential {
  /** The plain password (handy for development configs). */
  readonly password?: string;
  /** `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>` as made by {@link createScramVerifier}. */
  readonly scramVerifier?: string;
}

export interface AuthConfig {
  readonly method: AuthMethod;
  /** Users by name. With 'trust', an empty map admits any user. */
  readonly users: ReadonlyMap<string, UserCredential>;
}

export const SCRAM_MECHANISM = 'SCRAM-SHA-256';
const DEFAULT_ITERATIONS = 4096;

/** The parsed pieces of a SCRAM verifier string. */
export interface ScramVerifier {
  readonly iterations: number;
  readonly salt: Buffer;
  readonly storedKey: Buffer;
  readonly serverKey: Buffer;
}

function hmac(key: Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

function sha256(data: Buffer): Buffer {
  return createHash('sha256').update(data).digest();
}

/** Derives the SCRAM keys for a password (SaltedPassword = Hi(password, salt, i)). */
function deriveScramKeys(password: string, salt: Buffer, iterations: number): ScramVerifier {
  // Postgres runs SASLprep on the password; for ASCII passwords it is the identity.
  const saltedPassword = pbkdf2Sync(password.normalize('NFKC'), salt, iterations, 32, 'sha256');
  const clientKey = hmac(saltedPassword, 'Client Key');
  return { iterations, salt, storedKey: sha256(clientKey), serverKey: hmac(saltedPassword, 'Server Key') };
}

/** Creates a verifier string in the format Postgres stores in pg_authid.rolpassword. */
export function createScramVerifier(password: string, options: { iterations?: number; salt?: Buffer } = {}): string {
  const iterations = options.iterations ?? DEFAULT_ITERATIONS;
  const salt = options.salt ?? randomBytes(16);
  const v = deriveScramKeys(password, salt, iterations);
  return `${SCRAM_MECHANISM}$${iterations}:${salt.toString('base64')}$${v.storedKey.toString('base64')}:${v.serverKey.toString('base64')}`;
}

/** Parses a verifier string; returns undefined when it is not one. */
export function parseScramVerifier(text: string): ScramVerifier | undefined {
  const m = /^SCRAM-SHA-256\$(\d+):([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+):([A-Za-z0-9+/=]+)$/.exec(text);
  if (!m) return undefined;
  const iterations = Number(m[1]);
  if (!Number.isSafeInteger(iterations) || iterations < 1) return undefined;
  return {
    iterations,
    salt: Buffer.from(m[2]!, 'base64'),
    storedKey: Buffer.from(m[3]!, 'base64'),
    serverKey: Buffer.from(m[4]!, 'base64'),
  };
}

/** The md5 hash Postgres stores: 'md5' + md5(password + user). */
export function md5PasswordHash(user: string, password: string): string {
  return 'md5' + createHash('md5').update(password + user, 'utf8').digest('hex');
}

/** What a client must send for md5 auth: 'md5' + md5(md5(password + user) + salt). */
export function md5Response(user: string, password: string, salt: Buffer): string {
  const inner = md5PasswordHash(user, password).slice(3);
  return 'md5' + createHash('md5').update(Buffer.concat([Buffer.from(inner, 'utf8'), salt])).digest('hex');
}

function safeEqual(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Checks a cleartext password against whatever the credential holds. */
export function verifyCleartext(credential: UserCredential | undefined, password: string): boolean {
  if (credential === undefined) return false;
  if (credential.password !== undefined) {
    return safeEqual(Buffer.from(credential.password, 'utf8'), Buffer.from(password, 'utf8'));
  }
  const v = credential.scramVerifier === undefined ? undefined : parseScramVerifier(credential.scramVerifier);
  if (v === undefined) return false;
  return safeEqual(deriveScramKeys(password, v.salt, v.iterations).storedKey, v.storedKey);
}

/** Checks an md5 response; needs the plain password (a SCRAM verifier cannot answer md5). */
export function verifyMd5(credential: UserCredential | undefined, user: string, response: string, salt: Buffer): boolean {
  if (credential?.password === undefined) return false;
  return safeEqual(Buffer.from(md5Response(user, credential.password, salt)), Buffer.from(response));
}

/** The verifier to use for SCRAM: the configured one, or one derived from the plain password. */
export function scramVerifierFor(credential: UserCredential | undefined): ScramVerifier | undefined {
  if (credential?.scramVerifier !== undefined) return parseScramVerifier(credential.scramVerifier);
  if (credential?.password !== undefined) return deriveScramKeys(credential.password, randomBytes(16), DEFAULT_ITERATIONS);
  return undefined;
}

/** Outcome of one SCRAM step. */
export type ScramStep =
  | { readonly kind: 'continue'; readonly serverFirst: string }
  | { readonly kind: 'final'; readonly serverFinal: string }
  | { readonly kind: 'fail'; readonly reason: string; readonly protocolError: boolean };

/**
 * The server side of one SCRAM-SHA-256 exchange. Without a verifier (unknown
 * user) it runs the exchange against a random one so the client cannot tell
 * unknown users from wrong passwords, and fails at the end.
 */
export class ScramServerExchange {
  private clientFirstBare = '';
  private serverFirst = '';
  private nonce = '';
  private readonly verifier: ScramVerifier;
  private readonly userKnown: boolean;
  private state: 'first' | 'final' | 'done' = 'first';

  constructor(verifier: ScramVerifier | undefined) {
    this.userKnown = verifier !== undefined;
    this.verifier = verifier ?? {
      iterations: DEFAULT_ITERATIONS,
      salt: randomBytes(16),
      storedKey: randomBytes(32),
      serverKey: randomBytes(32),
    };
  }

  /** Handles SASLInitialResponse's client-first-message: 'n,,n=user,r=nonce'. */
  clientFirst(message: string): ScramStep {
    if (this.state !== 'first') return protocolFail('unexpected SCRAM client-first message');
    // gs2 header: 'n' (no channel binding) or 'y' (client could but thinks we cannot); 'p' would need binding.
    const m = /^([ny]),(?:a=[^,]*)?,(n=[^,]*,r=([\x21-\x2b\x2d-\x7e]+)(?:,.*)?)$/.exec(message);
    if (!m) return protocolFail('malformed SCRAM message');
    this.clientFirstBare = m[2]!;
    this.nonce = m[3]! + randomBytes(18).toString('base64');
    this.serverFirst = `r=${this.nonce},s=${this.verifier.salt.toString('base64')},i=${this.verifier.iterations}`;
    this.state = 'final';
    return { kind: 'continue', serverFirst: this.serverFirst };
  }

  /** Handles the client-final-message: 'c=biws,r=nonce,p=proof'. */
  clientFinal(message: string): ScramStep {
    if (this.state !== 'final') return protocolFail('unexpected SCRAM client-final message');
    this.state = 'done';
    const m = /^(c=([A-Za-z0-9+/=]*),r=([^,]*)(?:,[^p][^,]*)*),p=([A-Za-z0-9+/=]+)$/.exec(message);
    if (!m) return protocolFail('malformed SCRAM message');
    const channelBinding = Buffer.from(m[2]!, 'base64').toString('latin1');
    if (channelBinding !== 'n,,' && channelBinding !== 'y,,') return protocolFail('unexpected SCRAM channel-binding attribute');
    if (m[3] !== this.nonce) return protocolFail('SCRAM nonce mismatch');
    const authMessage = `${this.clientFirstBare},${this.serverFirst},${m[1]!}`;
    const proof = Buffer.from(m[4]!, 'base64');
    const clientSignature = hmac(this.verifier.storedKey, authMessage);
    if (proof.length !== clientSignature.length || !this.userKnown) return { kind: 'fail', reason: 'password', protocolError: false };
    const clientKey = Buffer.alloc(proof.length);
    for (let i = 0; i < proof.length; i++) clientKey[i] = proof[i]! ^ clientSignature[i]!;
    if (!safeEqual(sha256(clientKey), this.verifier.storedKey)) return { kind: 'fail', reason: 'password', protocolError: false };
    const serverSignature = hmac(this.verifier.serverKey, authMessage).toString('base64');
    return { kind: 'final', serverFinal: `v=${serverSignature}` };
  }
}

function protocolFail(reason: string): ScramStep {
  return { kind: 'fail', reason, protocolError: true };
}
