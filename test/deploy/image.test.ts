import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { scratchServerUrl } from '@recon/persistence';
import { buildKustomization } from './manifests';

/**
 * The image `npm run image` builds (scripts/image/build.sh): the manifests name it, and, when it has been
 * built on this machine, it runs as a non-root user with the production dependencies only, its presets,
 * migrations and OpenBLAS addon, and records its baked-in code version on the events it appends. Building
 * takes minutes, so this suite never builds: it runs the image built earlier, or skips saying why.
 */
const ROOT = resolve(__dirname, '../..');
const packageJson = JSON.parse(readFileSync(resolve(ROOT, 'package.json'), 'utf8')) as { version: string };
/** The tags build.sh gives the image: deploy/base's and deploy/overlays/local's. */
const IMAGE_TAGS = [packageJson.version, 'dev'];
const IMAGE = `localhost/recon:${packageJson.version}`;
const RUN_SCRIPT = resolve(ROOT, 'scripts/image/run.sh');
const execFileAsync = promisify(execFile);

/** Why the built image cannot be run here, or null when it can. */
function whyNotRunnable(): string | null {
  if (process.getuid?.() !== 0)
    return 'not root: the image lives in root container storage (npm run image builds it as root)';
  try {
    execFileSync('podman', ['--version'], { stdio: 'ignore' });
  } catch {
    return 'podman is not installed: run npm run image first (it installs buildah, podman, runc and debootstrap, then builds the image)';
  }
  try {
    execFileSync('podman', ['image', 'exists', IMAGE], { stdio: 'ignore' });
  } catch {
    return `no image ${IMAGE} on this machine: run npm run image first (several minutes)`;
  }
  // An image built from another package.json holds other dependencies: what it is checked against is this checkout.
  try {
    const built = execFileSync('bash', [RUN_SCRIPT, '--entrypoint', 'cat', IMAGE, 'package.json'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 120_000,
    });
    if (built.trim() !== readFileSync(resolve(ROOT, 'package.json'), 'utf8').trim())
      return `${IMAGE} was built from another package.json than this checkout's: run npm run image to rebuild it`;
  } catch (error) {
    return `${IMAGE} could not be started to read its package.json: ${(error as Error).message.split('\n')[0]}`;
  }
  return null;
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** The image run by scripts/image/run.sh (podman, host network: the test PostgreSQL is on 127.0.0.1). */
async function runImage(
  args: string[],
  options: { entrypoint?: string; env?: Record<string, string>; podman?: string[] } = {},
): Promise<Run> {
  const podmanArgs: string[] = [...(options.podman ?? [])];
  if (options.entrypoint) podmanArgs.push('--entrypoint', options.entrypoint);
  for (const [name, value] of Object.entries(options.env ?? {})) podmanArgs.push('--env', `${name}=${value}`);
  try {
    const { stdout, stderr } = await execFileAsync('bash', [RUN_SCRIPT, ...podmanArgs, IMAGE, ...args], {
      timeout: 240_000,
      maxBuffer: 16 * 1024 * 1024,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failure = error as { code: number; stdout: string; stderr: string };
    return { code: failure.code, stdout: failure.stdout, stderr: failure.stderr };
  }
}

function expectSuccess(run: Run, what: string): string {
  if (run.code !== 0)
    throw new Error(`${what} exited ${run.code}: ${run.stderr.trim() || run.stdout.trim()}`);
  return run.stdout;
}

describe('the image the manifests reference', () => {
  it('is the one npm run image tags: every recon container of both overlays names recon:<package version> or recon:dev', () => {
    for (const overlay of ['local', 'lab']) {
      const images = buildKustomization(resolve(ROOT, 'deploy/overlays', overlay)).flatMap((object) => {
        const template = (
          object as { spec?: { template?: { spec?: { containers?: Array<{ image: string }> } } } }
        ).spec?.template?.spec;
        return (template?.containers ?? []).map((c) => `${object.metadata.name}: ${c.image}`);
      });
      const recon = images.filter((line) => /: recon(:|$)/.test(line));
      expect(recon.length).toBeGreaterThan(0);
      for (const line of recon) {
        const tag = line.split(': recon')[1].replace(/^:/, '');
        expect({ overlay, container: line, tagged: IMAGE_TAGS.includes(tag) }).toEqual({
          overlay,
          container: line,
          tagged: true,
        });
      }
    }
  });
});

const skipReason = whyNotRunnable();
if (skipReason) process.stdout.write(`test/deploy/image.test.ts: SKIPPED running the image: ${skipReason}\n`);
const describeImage = skipReason ? describe.skip : describe;

describeImage(`${IMAGE}, run with podman${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  jest.setTimeout(300_000);
  let config: { User: string; Env: string[] };
  let codeVersion: string;
  let databaseName: string;
  let databaseUrl: string;
  /** As in the Deployments: a read-only root file system and a volume of uid 1000's at /var/lib/recon. */
  let home: string;
  const asInPod = () => ['--read-only', '--volume', `${home}:/var/lib/recon`];

  const onServer = async <T>(url: string, body: (client: Client) => Promise<T>): Promise<T> => {
    const client = new Client({ connectionString: url });
    await client.connect();
    try {
      return await body(client);
    } finally {
      await client.end();
    }
  };

  beforeAll(async () => {
    const inspected = JSON.parse(
      execFileSync('podman', ['image', 'inspect', IMAGE], { encoding: 'utf8' }),
    ) as Array<{ Config: { User: string; Env: string[] } }>;
    config = inspected[0].Config;
    codeVersion = config.Env.find((e) => e.startsWith('RECON_CODE_VERSION='))?.split('=')[1] ?? '';
    // An empty database: `recon migrate` in the image has everything to create.
    databaseName = `recon_image_${randomBytes(6).toString('hex')}`;
    await onServer(scratchServerUrl(), (client) => client.query(`CREATE DATABASE ${databaseName}`));
    const url = new URL(scratchServerUrl());
    url.pathname = `/${databaseName}`;
    databaseUrl = url.toString();
    home = mkdtempSync(join(tmpdir(), 'recon-image-home-'));
    chownSync(home, 1000, 1000);
  });

  afterAll(async () => {
    if (home) rmSync(home, { recursive: true, force: true });
    if (databaseName)
      await onServer(scratchServerUrl(), (client) =>
        client.query(`DROP DATABASE IF EXISTS ${databaseName} WITH (FORCE)`),
      );
  });

  it('runs as uid 1000 and carries the code version it was built from', async () => {
    expect(config.User).toBe('1000:1000');
    expect(codeVersion).toMatch(/^([0-9a-f]{12}(-dirty)?|package-.+)$/);
    expect(expectSuccess(await runImage(['-u'], { entrypoint: 'id' }), 'id -u').trim()).toBe('1000');
  });

  it('holds the production dependencies and none that only development needs', async () => {
    const lock = JSON.parse(readFileSync(resolve(ROOT, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { dev?: boolean; optional?: boolean }>;
    };
    const installed = JSON.parse(
      expectSuccess(
        await runImage(
          ['-p', 'JSON.stringify(Object.keys(require("./node_modules/.package-lock.json").packages))'],
          {
            entrypoint: 'node',
          },
        ),
        'reading node_modules/.package-lock.json',
      ),
    ) as string[];
    const devOnly = Object.entries(lock.packages)
      .filter(([path, entry]) => path.startsWith('node_modules/') && entry.dev)
      .map(([path]) => path);
    expect(devOnly.length).toBeGreaterThan(0);
    expect(installed.filter((path) => devOnly.includes(path))).toEqual([]);
    expect(installed).toEqual(expect.arrayContaining(['node_modules/pg', 'node_modules/@nestjs/core']));
  });

  it('finds its bundled presets and loads the OpenBLAS addon', async () => {
    const unknown = await runImage(['run', 'no-such-preset']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('not a bundled preset (recon-mini)');
    const blas = expectSuccess(
      await runImage(['-p', 'require("./dist/libs/policy/src/backend/blas-addon.js").loadBlas().kernels'], {
        entrypoint: 'node',
      }),
      'loading the OpenBLAS addon',
    );
    expect(blas).toMatch(/^OpenBLAS \d+\.\d+/);
  });

  it('recon migrate applies every migration to an empty database', async () => {
    const migrated = JSON.parse(
      expectSuccess(
        await runImage(['migrate', '--json'], { env: { DATABASE_URL: databaseUrl }, podman: asInPod() }),
        'recon migrate',
      ),
    ) as { applied: string[]; pending: string[] };
    expect(migrated.pending).toEqual([]);
    const recorded = await onServer(databaseUrl, (client) =>
      client.query<{ name: string }>('SELECT name FROM recon_migrations ORDER BY id'),
    );
    expect(migrated.applied).toEqual(recorded.rows.map((r) => r.name));
    expect(migrated.applied[0]).toMatch(/^EventLog/);
  });

  it('recon demo records an audited run whose events carry the baked-in code version', async () => {
    const demo = JSON.parse(
      expectSuccess(
        await runImage(['demo', '--json'], { env: { DATABASE_URL: databaseUrl }, podman: asInPod() }),
        'recon demo',
      ),
    ) as {
      runId: string;
      events: number;
      audit: { ok: boolean };
      rebuildIdentical: boolean;
      embedded: boolean;
    };
    expect(demo).toMatchObject({ audit: { ok: true }, rebuildIdentical: true, embedded: false });
    const versions = await onServer(databaseUrl, (client) =>
      client.query<{ version: string; events: string }>(
        "SELECT producer->>'version' AS version, count(*) AS events FROM recon_events WHERE stream_id = $1 GROUP BY 1",
        [demo.runId],
      ),
    );
    expect(versions.rows).toEqual([{ version: codeVersion, events: String(demo.events) }]);
  });

  it('recon service api, as the Deployment runs it, becomes ready and exits 0 on SIGTERM', async () => {
    const port = await freePort();
    const name = `recon-image-test-${randomBytes(4).toString('hex')}`;
    // Detached and kept after it stops (run.sh's --rm overridden), to read its exit code.
    const started = await runImage(['service', 'api'], {
      env: { DATABASE_URL: databaseUrl, PORT: String(port) },
      podman: ['--detach', '--rm=false', '--name', name, ...asInPod()],
    });
    try {
      expectSuccess(started, 'podman run -d … service api');
      const ready = await pollReady(`http://127.0.0.1:${port}/health/ready`, name);
      expect(ready).toEqual({ status: 'ok', database: 'up' });
      execFileSync('podman', ['stop', '--time', '30', name], { stdio: 'ignore' });
      const exitCode = execFileSync('podman', ['inspect', '--format', '{{.State.ExitCode}}', name], {
        encoding: 'utf8',
      }).trim();
      expect(exitCode).toBe('0');
    } finally {
      execFileSync('podman', ['rm', '--force', '--ignore', name], { stdio: 'ignore' });
    }
  });
});

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolvePort(address.port) : reject(new Error('no port')),
      );
    });
  });
}

/** /health/ready's body once it answers 200; fails with the container's log if the container stops first. */
async function pollReady(url: string, container: string): Promise<unknown> {
  for (;;) {
    const state = execFileSync('podman', ['inspect', '--format', '{{.State.Running}}', container], {
      encoding: 'utf8',
    }).trim();
    if (state !== 'true') {
      const log = execFileSync('podman', ['logs', container], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      throw new Error(`the container ${container} stopped before it was ready:\n${log}`);
    }
    try {
      const response = await fetch(url);
      if (response.ok) return await response.json();
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}
