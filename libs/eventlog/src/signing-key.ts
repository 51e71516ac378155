import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { dirname, join } from 'node:path';
import { sha256Hex } from './canonical';

/** The Ed25519 key that signs log checkpoints; the database never holds it. */
export interface LogSigningKey {
  privateKey: KeyObject;
  publicKey: KeyObject;
  keyId: string;
  /** Where it came from, for messages (an environment variable's name or a file). */
  source: string;
}

export interface LogVerifyKey {
  publicKey: KeyObject;
  keyId: string;
  source: string;
}

/** A signing or verification key that cannot be used, naming where it came from. */
export class SigningKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SigningKeyError';
  }
}

/** The file names of the key pair in a recon home. */
export function signingKeyFiles(home: string): { privateKey: string; publicKey: string } {
  return { privateKey: join(home, 'log-signing-key.pem'), publicKey: join(home, 'log-signing-key.pub.pem') };
}

/** First 16 hex digits of the sha256 of the public key (SPKI DER): names the key in every checkpoint. */
export function keyIdOf(publicKey: KeyObject): string {
  return sha256Hex(publicKey.export({ type: 'spki', format: 'der' })).slice(0, 16);
}

function ed25519(key: KeyObject, source: string): KeyObject {
  if (key.asymmetricKeyType !== 'ed25519')
    throw new SigningKeyError(
      `${source}: an Ed25519 key is required, found ${key.asymmetricKeyType ?? 'a secret key'}`,
    );
  return key;
}

function privateFrom(pem: string, source: string): LogSigningKey {
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(pem);
  } catch (error) {
    throw new SigningKeyError(`${source}: not a PEM private key (${(error as Error).message})`);
  }
  ed25519(privateKey, source);
  const publicKey = createPublicKey(privateKey);
  return { privateKey, publicKey, keyId: keyIdOf(publicKey), source };
}

/**
 * The checkpoint signing key: `RECON_LOG_SIGNING_KEY` (the PEM itself, as a KMS or secret manager injects
 * it), else the file `RECON_LOG_SIGNING_KEY_FILE`, else `<home>/log-signing-key.pem`, created on first use
 * with mode 0600 (its public half beside it as `log-signing-key.pub.pem`).
 */
export function loadSigningKey(home: string, env: NodeJS.ProcessEnv = process.env): LogSigningKey {
  if (env.RECON_LOG_SIGNING_KEY) return privateFrom(env.RECON_LOG_SIGNING_KEY, 'RECON_LOG_SIGNING_KEY');
  if (env.RECON_LOG_SIGNING_KEY_FILE) {
    const file = env.RECON_LOG_SIGNING_KEY_FILE;
    return privateFrom(readKeyFile(file, 'RECON_LOG_SIGNING_KEY_FILE'), `RECON_LOG_SIGNING_KEY_FILE ${file}`);
  }
  const files = signingKeyFiles(home);
  if (!existsSync(files.privateKey)) createKeyFiles(files);
  // A key file readable by others is narrowed to its owner (it may predate this check, or be copied in).
  if ((statSync(files.privateKey).mode & 0o077) !== 0) chmodSync(files.privateKey, 0o600);
  const key = privateFrom(readFileSync(files.privateKey, 'utf8'), files.privateKey);
  if (!existsSync(files.publicKey)) writePublicKey(files.publicKey, key.publicKey);
  return key;
}

function createKeyFiles(files: { privateKey: string; publicKey: string }): void {
  mkdirSync(dirname(files.privateKey), { recursive: true });
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  try {
    // 'wx': two processes creating it at once keep the first key, never a mix.
    writeFileSync(files.privateKey, privateKey.export({ type: 'pkcs8', format: 'pem' }), {
      mode: 0o600,
      flag: 'wx',
    });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return;
  }
  writePublicKey(files.publicKey, publicKey);
}

function writePublicKey(file: string, publicKey: KeyObject): void {
  writeFileSync(file, publicKey.export({ type: 'spki', format: 'pem' }), { mode: 0o644 });
}

function readKeyFile(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new SigningKeyError(`${what}: cannot read ${file}: ${(error as Error).message}`);
  }
}

/**
 * The key that verifies checkpoints; only the public half is needed. In order: `publicKeyFile` (the audit's
 * --public-key), `RECON_LOG_PUBLIC_KEY_FILE`, the signing key when it is configured or present in the home,
 * and `<home>/log-signing-key.pub.pem`. Null when there is none (nothing was ever signed here).
 */
export function loadVerifyKey(
  home: string,
  options: { publicKeyFile?: string; env?: NodeJS.ProcessEnv } = {},
): LogVerifyKey | null {
  const env = options.env ?? process.env;
  if (options.publicKeyFile)
    return publicFromFile(options.publicKeyFile, `--public-key ${options.publicKeyFile}`);
  if (env.RECON_LOG_PUBLIC_KEY_FILE)
    return publicFromFile(
      env.RECON_LOG_PUBLIC_KEY_FILE,
      `RECON_LOG_PUBLIC_KEY_FILE ${env.RECON_LOG_PUBLIC_KEY_FILE}`,
    );
  const files = signingKeyFiles(home);
  if (env.RECON_LOG_SIGNING_KEY || env.RECON_LOG_SIGNING_KEY_FILE || existsSync(files.privateKey)) {
    const { publicKey, keyId, source } = loadSigningKey(home, env);
    return { publicKey, keyId, source };
  }
  if (existsSync(files.publicKey)) return publicFromFile(files.publicKey, files.publicKey);
  return null;
}

function publicFromFile(file: string, source: string): LogVerifyKey {
  const pem = readKeyFile(file, source);
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey(pem);
  } catch (error) {
    throw new SigningKeyError(`${source}: not a PEM public (or private) key (${(error as Error).message})`);
  }
  ed25519(publicKey, source);
  return { publicKey, keyId: keyIdOf(publicKey), source };
}
