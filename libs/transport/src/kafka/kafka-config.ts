import { readFileSync } from 'node:fs';
import { createSecureContext, type ConnectionOptions } from 'node:tls';
import { Kafka, type KafkaConfig, type SASLOptions } from 'kafkajs';
import { z } from 'zod';

/**
 * The one place the Kafka connection is read from the environment:
 *   KAFKA_BROKERS                  host:port[,host:port...]; unset = the in-process deployment
 *   KAFKA_SASL_MECHANISM           scram-sha-256 | scram-sha-512 | plain (unset = no SASL)
 *   KAFKA_SASL_USERNAME            required with a mechanism
 *   KAFKA_SASL_PASSWORD_FILE       file holding the password (a mounted Kubernetes Secret), or
 *   KAFKA_SASL_PASSWORD            the password itself (one of the two)
 *   KAFKA_TLS                      true = connect with TLS (the system CAs unless KAFKA_TLS_CA_FILE)
 *   KAFKA_TLS_CA_FILE              PEM CA bundle the brokers' certificates are checked against
 *   KAFKA_TLS_CERT_FILE / _KEY_FILE  client certificate and key (mutual TLS; both or neither)
 *   KAFKA_TLS_REJECT_UNAUTHORIZED  false = accept any broker certificate (default true)
 * Errors name the variable and never contain the password; the password is kept off the config object's
 * enumerable properties, so logging or serialising the config does not print it either.
 */

export const KAFKA_SASL_MECHANISMS = ['scram-sha-256', 'scram-sha-512', 'plain'] as const;
export type KafkaSaslMechanism = (typeof KAFKA_SASL_MECHANISMS)[number];

/** A configuration error naming the variable at fault. */
export class KafkaConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid Kafka configuration: ${problems.join('; ')}`);
    this.name = 'KafkaConfigError';
  }
}

/** Security options for a kafkajs client (spread into its KafkaConfig). */
export interface KafkaSecurity {
  ssl?: ConnectionOptions | true;
  sasl?: SASLOptions;
}

export interface KafkaConnection extends KafkaSecurity {
  brokers: string[];
}

/** Unset and empty (an empty ConfigMap value) mean the same. */
const optional = <T extends z.ZodType>(schema: T) =>
  z.preprocess((v) => (typeof v === 'string' && v.trim() === '' ? undefined : v), schema.optional());
const text = optional(z.string().trim());
const flag = optional(z.stringbool({ truthy: ['true', '1', 'yes'], falsy: ['false', '0', 'no'] }));

const envSchema = z
  .object({
    KAFKA_BROKERS: optional(
      z
        .string()
        .transform((v) =>
          v
            .split(',')
            .map((b) => b.trim())
            .filter(Boolean),
        )
        .pipe(z.array(z.string().regex(/^[^\s:,]+:\d{1,5}$/, 'expected host:port[,host:port...]'))),
    ),
    KAFKA_SASL_MECHANISM: optional(
      z.preprocess(
        (v) => (typeof v === 'string' ? v.trim().toLowerCase() : v),
        z.enum(KAFKA_SASL_MECHANISMS, { error: `expected one of ${KAFKA_SASL_MECHANISMS.join(', ')}` }),
      ),
    ),
    KAFKA_SASL_USERNAME: text,
    // Never echoed: no schema message below includes a value.
    KAFKA_SASL_PASSWORD: optional(z.string()),
    KAFKA_SASL_PASSWORD_FILE: text,
    KAFKA_TLS: flag,
    KAFKA_TLS_CA_FILE: text,
    KAFKA_TLS_CERT_FILE: text,
    KAFKA_TLS_KEY_FILE: text,
    KAFKA_TLS_REJECT_UNAUTHORIZED: flag,
  })
  .superRefine((env, ctx) => {
    const problem = (variable: keyof typeof env, message: string) =>
      ctx.addIssue({ code: 'custom', path: [variable], message });
    if (env.KAFKA_SASL_MECHANISM) {
      if (!env.KAFKA_SASL_USERNAME)
        problem('KAFKA_SASL_USERNAME', 'required when KAFKA_SASL_MECHANISM is set');
      if (env.KAFKA_SASL_PASSWORD === undefined && !env.KAFKA_SASL_PASSWORD_FILE)
        problem(
          'KAFKA_SASL_PASSWORD_FILE',
          'set it (or KAFKA_SASL_PASSWORD) when KAFKA_SASL_MECHANISM is set',
        );
      if (env.KAFKA_SASL_PASSWORD !== undefined && env.KAFKA_SASL_PASSWORD_FILE)
        problem(
          'KAFKA_SASL_PASSWORD',
          'set either KAFKA_SASL_PASSWORD or KAFKA_SASL_PASSWORD_FILE, not both',
        );
    } else {
      for (const v of ['KAFKA_SASL_USERNAME', 'KAFKA_SASL_PASSWORD', 'KAFKA_SASL_PASSWORD_FILE'] as const)
        if (env[v] !== undefined) problem(v, 'set KAFKA_SASL_MECHANISM too (or unset it)');
    }
    if (env.KAFKA_TLS !== true) {
      for (const v of [
        'KAFKA_TLS_CA_FILE',
        'KAFKA_TLS_CERT_FILE',
        'KAFKA_TLS_KEY_FILE',
        'KAFKA_TLS_REJECT_UNAUTHORIZED',
      ] as const)
        if (env[v] !== undefined) problem(v, 'needs KAFKA_TLS=true');
    }
    if (!env.KAFKA_TLS_CERT_FILE !== !env.KAFKA_TLS_KEY_FILE)
      problem(
        env.KAFKA_TLS_CERT_FILE ? 'KAFKA_TLS_KEY_FILE' : 'KAFKA_TLS_CERT_FILE',
        'KAFKA_TLS_CERT_FILE and KAFKA_TLS_KEY_FILE go together (mutual TLS)',
      );
  });

type KafkaEnv = z.infer<typeof envSchema>;

function parse(env: NodeJS.ProcessEnv): KafkaEnv {
  const parsed = envSchema.safeParse(env);
  if (parsed.success) return parsed.data;
  throw new KafkaConfigError(
    parsed.error.issues.map((issue) => `${String(issue.path[0])}: ${issue.message}`),
  );
}

function readConfigFile(variable: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new KafkaConfigError([`${variable}: cannot read ${path} (${code})`]);
  }
}

function password(env: KafkaEnv): string {
  if (env.KAFKA_SASL_PASSWORD !== undefined) return env.KAFKA_SASL_PASSWORD;
  const file = env.KAFKA_SASL_PASSWORD_FILE as string;
  // A Secret file or `echo secret > file` ends with a newline that is not part of the password.
  const value = readConfigFile('KAFKA_SASL_PASSWORD_FILE', file)
    .toString('utf8')
    .replace(/\r?\n$/, '');
  if (!value) throw new KafkaConfigError([`KAFKA_SASL_PASSWORD_FILE: ${file} is empty`]);
  return value;
}

/** The SASL options, with the password as a non-enumerable property (kafkajs reads it; logs do not). */
function sasl(env: KafkaEnv): SASLOptions | undefined {
  if (!env.KAFKA_SASL_MECHANISM) return undefined;
  const options = { mechanism: env.KAFKA_SASL_MECHANISM, username: env.KAFKA_SASL_USERNAME as string };
  Object.defineProperty(options, 'password', { value: password(env), enumerable: false });
  return options as SASLOptions;
}

/**
 * TLS options. CA, certificate and key go into a SecureContext made here: a bad file fails at start-up
 * naming the variable, and the key is not a property anyone logging the config could print.
 */
function ssl(env: KafkaEnv): ConnectionOptions | true | undefined {
  if (env.KAFKA_TLS !== true) return undefined;
  const options: ConnectionOptions = {};
  if (env.KAFKA_TLS_REJECT_UNAUTHORIZED === false) options.rejectUnauthorized = false;
  if (!env.KAFKA_TLS_CA_FILE && !env.KAFKA_TLS_CERT_FILE) return Object.keys(options).length ? options : true;
  const ca = env.KAFKA_TLS_CA_FILE && readConfigFile('KAFKA_TLS_CA_FILE', env.KAFKA_TLS_CA_FILE);
  // createSecureContext ignores a CA file holding no certificate; the brokers would then all be refused.
  if (ca && !ca.includes('-----BEGIN CERTIFICATE-----'))
    throw new KafkaConfigError([`KAFKA_TLS_CA_FILE: ${env.KAFKA_TLS_CA_FILE} holds no PEM certificate`]);
  const cert = env.KAFKA_TLS_CERT_FILE && readConfigFile('KAFKA_TLS_CERT_FILE', env.KAFKA_TLS_CERT_FILE);
  const key = env.KAFKA_TLS_KEY_FILE && readConfigFile('KAFKA_TLS_KEY_FILE', env.KAFKA_TLS_KEY_FILE);
  try {
    options.secureContext = createSecureContext({
      ...(ca ? { ca } : {}),
      ...(cert && key ? { cert, key } : {}),
    });
  } catch (error) {
    const files = ['KAFKA_TLS_CA_FILE', 'KAFKA_TLS_CERT_FILE', 'KAFKA_TLS_KEY_FILE'].filter(
      (v) => env[v as keyof KafkaEnv],
    );
    throw new KafkaConfigError([`${files.join(', ')}: not usable PEM (${(error as Error).message})`]);
  }
  return options;
}

/** SASL and TLS from the environment (throws KafkaConfigError naming the variable). */
export function kafkaSecurityFromEnv(env: NodeJS.ProcessEnv = process.env): KafkaSecurity {
  const parsed = parse(env);
  const security: KafkaSecurity = {};
  const tls = ssl(parsed);
  if (tls) security.ssl = tls;
  const auth = sasl(parsed);
  if (auth) security.sasl = auth;
  return security;
}

/** KAFKA_BROKERS as a list, or null when the deployment is the in-process one (validates the rest too). */
export function kafkaBrokersFromEnv(env: NodeJS.ProcessEnv = process.env): string[] | null {
  const brokers = parse(env).KAFKA_BROKERS;
  return brokers?.length ? brokers : null;
}

/** Brokers, SASL and TLS from the environment, or null without KAFKA_BROKERS. */
export function kafkaConnectionFromEnv(env: NodeJS.ProcessEnv = process.env): KafkaConnection | null {
  const brokers = kafkaBrokersFromEnv(env);
  return brokers ? { brokers, ...kafkaSecurityFromEnv(env) } : null;
}

/** kafkajs waits 1 s for a connection by default; a TLS handshake on a busy node (or a cold broker) takes longer. */
export const TLS_CONNECTION_TIMEOUT_MS = 5000;

/**
 * A kafkajs client with the environment's SASL and TLS (or the given security): every client the platform
 * makes goes through here, so a secured cluster needs configuration only.
 */
export function createKafkaClient(
  config: Omit<KafkaConfig, 'ssl' | 'sasl'>,
  security: KafkaSecurity = kafkaSecurityFromEnv(),
): Kafka {
  const connectionTimeout =
    config.connectionTimeout ?? (security.ssl ? TLS_CONNECTION_TIMEOUT_MS : undefined);
  return new Kafka({ ...config, ...(connectionTimeout ? { connectionTimeout } : {}), ...security });
}

/** For messages: the brokers and how the connection is secured, without secrets. */
export function describeKafkaConnection(connection: KafkaConnection): string {
  const parts = [connection.brokers.join(',')];
  if (connection.sasl)
    parts.push(
      `SASL ${connection.sasl.mechanism}${'username' in connection.sasl ? ` as ${connection.sasl.username}` : ''}`,
    );
  if (connection.ssl) parts.push('TLS');
  return parts.join(', ');
}
