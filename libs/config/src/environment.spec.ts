import { ENVIRONMENT_VARIABLES, EnvironmentError, readEnvironment } from './environment';

describe('readEnvironment', () => {
  it('gives undefined for an unset variable, and text variables as they are set', () => {
    expect(readEnvironment('RECON_HOME', {})).toBeUndefined();
    expect(readEnvironment('RECON_HOME', { RECON_HOME: ' /data ' })).toBe(' /data ');
  });

  it('converts a variable with a schema to its type', () => {
    expect(readEnvironment('RECON_RATE_LIMIT_PER_MINUTE', { RECON_RATE_LIMIT_PER_MINUTE: '120' })).toBe(120);
    expect(readEnvironment('RECON_ERROR_EXIT_GRACE_SECONDS', { RECON_ERROR_EXIT_GRACE_SECONDS: '0.5' })).toBe(
      0.5,
    );
    expect(readEnvironment('RECON_PG_PORT', { RECON_PG_PORT: '55432' })).toBe(55432);
    expect(readEnvironment('RECON_KAFKA_NAMESPACE', { RECON_KAFKA_NAMESPACE: ' ci-7 ' })).toBe('ci-7');
    expect(readEnvironment('RECON_LOG_LEVEL', { RECON_LOG_LEVEL: ' Debug ' })).toBe('debug');
    expect(readEnvironment('RECON_LOG_FORMAT', { RECON_LOG_FORMAT: 'JSON' })).toBe('json');
  });

  it('treats a blank value as unset only where the variable says so', () => {
    expect(
      readEnvironment('RECON_RUN_SERIES_TTL_SECONDS', { RECON_RUN_SERIES_TTL_SECONDS: '  ' }),
    ).toBeUndefined();
    expect(readEnvironment('RECON_BLAS_THREADS', { RECON_BLAS_THREADS: '' })).toBeUndefined();
    expect(() =>
      readEnvironment('RECON_AUTH_FAILURES_PER_MINUTE', { RECON_AUTH_FAILURES_PER_MINUTE: '' }),
    ).toThrow("RECON_AUTH_FAILURES_PER_MINUTE: expected a positive integer, got ''");
  });

  it.each([
    [
      'RECON_RATE_LIMIT_PER_MINUTE',
      'lots',
      "RECON_RATE_LIMIT_PER_MINUTE: expected a positive integer, got 'lots'",
    ],
    [
      'RECON_RATE_LIMIT_PER_MINUTE',
      '2.5',
      "RECON_RATE_LIMIT_PER_MINUTE: expected a positive integer, got '2.5'",
    ],
    ['RECON_BLAS_THREADS', '0', "RECON_BLAS_THREADS: expected a positive integer, got '0'"],
    [
      'RECON_RUN_SERIES_TTL_SECONDS',
      '-1',
      "RECON_RUN_SERIES_TTL_SECONDS: expected a number of seconds >= 0, got '-1'",
    ],
    [
      'RECON_ERROR_EXIT_GRACE_SECONDS',
      'Infinity',
      "RECON_ERROR_EXIT_GRACE_SECONDS: expected a number of seconds >= 0, got 'Infinity'",
    ],
    ['RECON_PG_PORT', '70000', "RECON_PG_PORT: expected a port number, got '70000'"],
    ['RECON_LOG_FORMAT', 'xml', "RECON_LOG_FORMAT: expected json or pretty, got 'xml'"],
    [
      'RECON_KAFKA_NAMESPACE',
      'a b',
      "RECON_KAFKA_NAMESPACE: use letters, digits, '.', '_' and '-' (at most 100), got 'a b'",
    ],
  ] as const)('refuses %s=%s with an error naming the variable', (name, value, message) => {
    const read = () => readEnvironment(name, { [name]: value });
    expect(read).toThrow(EnvironmentError);
    expect(read).toThrow(message);
  });

  it('reads process.env when it is given no environment, at the time of the call', () => {
    const saved = process.env.RECON_SERVICE_NAME;
    try {
      process.env.RECON_SERVICE_NAME = 'reward';
      expect(readEnvironment('RECON_SERVICE_NAME')).toBe('reward');
    } finally {
      if (saved === undefined) delete process.env.RECON_SERVICE_NAME;
      else process.env.RECON_SERVICE_NAME = saved;
    }
  });

  it('documents every variable with a group, a default and a description', () => {
    for (const [name, variable] of Object.entries(ENVIRONMENT_VARIABLES)) {
      expect({
        name,
        ok: variable.group.length > 0 && variable.default.length > 0 && variable.description.length > 0,
      }).toEqual({
        name,
        ok: true,
      });
    }
  });
});
