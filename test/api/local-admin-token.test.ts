import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listTokens, verifyToken } from '@recon/service-kit';
import { ensureLocalAdminToken, LocalAdminTokenError } from '../../services/api/src/http/local-admin-token';
import { createTestPlatform, type TestPlatform } from '../support/platform';
import { TEST_PRODUCER } from '../support/synthetic-run';

describe('the local admin token of embedded mode', () => {
  let platform: TestPlatform;
  let dir: string;
  beforeAll(async () => {
    platform = await createTestPlatform();
    dir = mkdtempSync(join(tmpdir(), 'recon-admin-token-'));
  });
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await platform.close();
  });
  const modeOf = (file: string) => statSync(file).mode & 0o777;
  const tokenIn = (file: string) => readFileSync(file, 'utf8').trim();

  it('is created with mode 0600 and reused while valid', async () => {
    const file = join(dir, 'fresh');
    expect(await ensureLocalAdminToken(platform, file, TEST_PRODUCER)).toEqual({ file });
    expect(modeOf(file)).toBe(0o600);
    const token = tokenIn(file);
    expect((await verifyToken(platform, token)).role).toBe('admin');
    expect(await ensureLocalAdminToken(platform, file, TEST_PRODUCER)).toEqual({ file });
    expect(tokenIn(file)).toBe(token);
  });

  it('revokes a valid token whose file others could read (0644) and writes a new one with mode 0600', async () => {
    const file = join(dir, 'loose');
    await ensureLocalAdminToken(platform, file, TEST_PRODUCER);
    const disclosed = tokenIn(file);
    chmodSync(file, 0o644);
    const result = await ensureLocalAdminToken(platform, file, TEST_PRODUCER);
    expect(result.note).toBe(
      `${file} was readable by other users (mode 0644): its token is revoked and a new one written with mode 0600`,
    );
    expect(modeOf(file)).toBe(0o600);
    expect(tokenIn(file)).not.toBe(disclosed);
    await expect(verifyToken(platform, disclosed)).rejects.toThrow('token revoked');
    expect((await verifyToken(platform, tokenIn(file))).role).toBe('admin');
  });

  it('rewrites an unusable token file of mode 0644 with mode 0600', async () => {
    const file = join(dir, 'stale');
    writeFileSync(file, 'recon_0123456789abcdef_stale\n', { mode: 0o644 });
    chmodSync(file, 0o644);
    const before = (await listTokens(platform)).length;
    const result = await ensureLocalAdminToken(platform, file, TEST_PRODUCER);
    expect(result.note).toBe(`${file} had mode 0644: rewritten with mode 0600`);
    expect(modeOf(file)).toBe(0o600);
    expect((await verifyToken(platform, tokenIn(file))).role).toBe('admin');
    expect((await listTokens(platform)).length).toBe(before + 1);
  });

  it('refuses a path that is not a regular file, naming it', async () => {
    const file = join(dir, 'a-directory');
    mkdirSync(file);
    await expect(ensureLocalAdminToken(platform, file, TEST_PRODUCER)).rejects.toThrow(
      new LocalAdminTokenError(
        `${file} is not a regular file: remove it so a local admin token can be written`,
      ),
    );
  });
});
