import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import {
  KafkaConfigError,
  createKafkaClient,
  describeKafkaConnection,
  kafkaBrokersFromEnv,
  kafkaConnectionFromEnv,
  kafkaSecurityFromEnv,
} from './kafka-config';

const SECRET = 'pa55-w0rd-never-printed';

describe('Kafka configuration from the environment', () => {
  let dir: string;
  const file = (name: string, content: string) => {
    const path = join(dir, name);
    writeFileSync(path, content);
    return path;
  };
  const failure = (env: NodeJS.ProcessEnv): KafkaConfigError => {
    try {
      kafkaBrokersFromEnv(env);
      kafkaSecurityFromEnv(env);
    } catch (error) {
      expect(error).toBeInstanceOf(KafkaConfigError);
      expect((error as Error).message).not.toContain(SECRET);
      return error as KafkaConfigError;
    }
    throw new Error('expected a KafkaConfigError');
  };

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'recon-kafka-config-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is null without KAFKA_BROKERS, and plaintext without SASL or TLS variables', () => {
    expect(kafkaConnectionFromEnv({})).toBeNull();
    expect(kafkaBrokersFromEnv({ KAFKA_BROKERS: ' , ' })).toBeNull();
    expect(kafkaConnectionFromEnv({ KAFKA_BROKERS: 'a:9092, b:9093,' })).toEqual({
      brokers: ['a:9092', 'b:9093'],
    });
    // Empty values (an empty ConfigMap entry) count as unset.
    expect(kafkaSecurityFromEnv({ KAFKA_SASL_MECHANISM: '', KAFKA_TLS: '' })).toEqual({});
  });

  it('rejects brokers that are not host:port', () => {
    expect(failure({ KAFKA_BROKERS: 'localhost' }).message).toMatch(/KAFKA_BROKERS.*host:port/);
  });

  it('reads SCRAM credentials from the password file (its newline stripped) or the variable', () => {
    const fromFile = kafkaSecurityFromEnv({
      KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512',
      KAFKA_SASL_USERNAME: 'recon',
      KAFKA_SASL_PASSWORD_FILE: file('password', `${SECRET}\n`),
    });
    expect(fromFile.sasl).toMatchObject({ mechanism: 'scram-sha-512', username: 'recon', password: SECRET });
    const inline = kafkaSecurityFromEnv({
      KAFKA_SASL_MECHANISM: 'scram-sha-256',
      KAFKA_SASL_USERNAME: 'recon',
      KAFKA_SASL_PASSWORD: SECRET,
    });
    expect(inline.sasl).toMatchObject({ mechanism: 'scram-sha-256', password: SECRET });
  });

  it('keeps the password out of serialised, inspected and described configuration', () => {
    const connection = kafkaConnectionFromEnv({
      KAFKA_BROKERS: 'kafka:9093',
      KAFKA_SASL_MECHANISM: 'plain',
      KAFKA_SASL_USERNAME: 'recon',
      KAFKA_SASL_PASSWORD: SECRET,
      KAFKA_TLS: 'true',
    });
    expect(connection).not.toBeNull();
    expect(JSON.stringify(connection)).not.toContain(SECRET);
    expect(inspect(connection, { depth: 10 })).not.toContain(SECRET);
    expect(describeKafkaConnection(connection!)).toBe('kafka:9093, SASL plain as recon, TLS');
    // kafkajs still gets it, and the client is made with it.
    expect((connection!.sasl as { password: string }).password).toBe(SECRET);
    expect(() =>
      createKafkaClient({ clientId: 't', brokers: connection!.brokers }, connection!),
    ).not.toThrow();
  });

  it('names the variable when the mechanism is unknown', () => {
    expect(failure({ KAFKA_SASL_MECHANISM: 'gssapi' }).problems).toEqual([
      'KAFKA_SASL_MECHANISM: expected one of scram-sha-256, scram-sha-512, plain',
    ]);
  });

  it('wants a username and exactly one of password and password file with a mechanism', () => {
    expect(failure({ KAFKA_SASL_MECHANISM: 'scram-sha-512', KAFKA_SASL_PASSWORD: SECRET }).problems).toEqual([
      'KAFKA_SASL_USERNAME: required when KAFKA_SASL_MECHANISM is set',
    ]);
    expect(failure({ KAFKA_SASL_MECHANISM: 'scram-sha-512', KAFKA_SASL_USERNAME: 'recon' }).problems).toEqual(
      ['KAFKA_SASL_PASSWORD_FILE: set it (or KAFKA_SASL_PASSWORD) when KAFKA_SASL_MECHANISM is set'],
    );
    expect(
      failure({
        KAFKA_SASL_MECHANISM: 'scram-sha-512',
        KAFKA_SASL_USERNAME: 'recon',
        KAFKA_SASL_PASSWORD: SECRET,
        KAFKA_SASL_PASSWORD_FILE: '/nonexistent',
      }).problems,
    ).toEqual(['KAFKA_SASL_PASSWORD: set either KAFKA_SASL_PASSWORD or KAFKA_SASL_PASSWORD_FILE, not both']);
  });

  it('refuses credentials without a mechanism', () => {
    expect(failure({ KAFKA_SASL_USERNAME: 'recon', KAFKA_SASL_PASSWORD: SECRET }).problems).toEqual([
      'KAFKA_SASL_USERNAME: set KAFKA_SASL_MECHANISM too (or unset it)',
      'KAFKA_SASL_PASSWORD: set KAFKA_SASL_MECHANISM too (or unset it)',
    ]);
  });

  it('names a password file that is missing or empty', () => {
    const base = { KAFKA_SASL_MECHANISM: 'scram-sha-512', KAFKA_SASL_USERNAME: 'recon' };
    const missing = join(dir, 'missing');
    expect(failure({ ...base, KAFKA_SASL_PASSWORD_FILE: missing }).problems).toEqual([
      `KAFKA_SASL_PASSWORD_FILE: cannot read ${missing} (ENOENT)`,
    ]);
    const empty = file('empty', '\n');
    expect(failure({ ...base, KAFKA_SASL_PASSWORD_FILE: empty }).problems).toEqual([
      `KAFKA_SASL_PASSWORD_FILE: ${empty} is empty`,
    ]);
  });

  it('turns TLS on with KAFKA_TLS, optionally without checking the certificate', () => {
    expect(kafkaSecurityFromEnv({ KAFKA_TLS: 'true' })).toEqual({ ssl: true });
    expect(kafkaSecurityFromEnv({ KAFKA_TLS: 'false' })).toEqual({});
    expect(kafkaSecurityFromEnv({ KAFKA_TLS: '1', KAFKA_TLS_REJECT_UNAUTHORIZED: 'false' })).toEqual({
      ssl: { rejectUnauthorized: false },
    });
    expect(failure({ KAFKA_TLS: 'maybe' }).problems[0]).toMatch(/^KAFKA_TLS: /);
  });

  it('refuses TLS files without KAFKA_TLS=true, a certificate without its key, and unreadable or bad files', () => {
    expect(failure({ KAFKA_TLS_CA_FILE: '/ca.pem' }).problems).toEqual([
      'KAFKA_TLS_CA_FILE: needs KAFKA_TLS=true',
    ]);
    expect(failure({ KAFKA_TLS: 'true', KAFKA_TLS_CERT_FILE: '/c.pem' }).problems).toEqual([
      'KAFKA_TLS_KEY_FILE: KAFKA_TLS_CERT_FILE and KAFKA_TLS_KEY_FILE go together (mutual TLS)',
    ]);
    const missing = join(dir, 'ca-missing.pem');
    expect(failure({ KAFKA_TLS: 'true', KAFKA_TLS_CA_FILE: missing }).problems).toEqual([
      `KAFKA_TLS_CA_FILE: cannot read ${missing} (ENOENT)`,
    ]);
    const garbage = file('garbage.pem', 'not a certificate');
    expect(failure({ KAFKA_TLS: 'true', KAFKA_TLS_CA_FILE: garbage }).problems[0]).toMatch(
      /^KAFKA_TLS_CA_FILE: .*holds no PEM certificate$/,
    );
    const cert = file('bad-cert.pem', 'not a certificate');
    expect(
      failure({ KAFKA_TLS: 'true', KAFKA_TLS_CERT_FILE: cert, KAFKA_TLS_KEY_FILE: garbage }).problems[0],
    ).toMatch(/^KAFKA_TLS_CERT_FILE, KAFKA_TLS_KEY_FILE: not usable PEM/);
  });

  it('makes a secure context of CA, certificate and key (mutual TLS) without exposing the key', () => {
    const key = join(dir, 'client.key');
    const cert = join(dir, 'client.pem');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        key,
        '-out',
        cert,
        '-days',
        '1',
        '-subj',
        '/CN=recon-test',
      ],
      { stdio: 'ignore' },
    );
    const security = kafkaSecurityFromEnv({
      KAFKA_TLS: 'true',
      KAFKA_TLS_CA_FILE: cert,
      KAFKA_TLS_CERT_FILE: cert,
      KAFKA_TLS_KEY_FILE: key,
    });
    expect(security.ssl).toEqual({ secureContext: expect.anything() });
    const keyText = readFileSync(key, 'utf8').split('\n')[1];
    expect(inspect(security, { depth: 10, showHidden: true })).not.toContain(keyText);
  });

  it('reports every malformed variable at once', () => {
    expect(failure({ KAFKA_BROKERS: 'x', KAFKA_SASL_MECHANISM: 'nope', KAFKA_TLS: 'on' }).problems).toEqual([
      'KAFKA_BROKERS: expected host:port[,host:port...]',
      'KAFKA_SASL_MECHANISM: expected one of scram-sha-256, scram-sha-512, plain',
      expect.stringMatching(/^KAFKA_TLS: /),
    ]);
  });
});
