import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveCodeVersion } from './code-version';

describe('resolveCodeVersion', () => {
  let dir: string;
  const git = (cwd: string, ...args: string[]) =>
    execFileSync('git', ['-C', cwd, '-c', 'user.name=t', '-c', 'user.email=t@t', ...args])
      .toString()
      .trim();
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'recon-code-version-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("takes a package checkout's commit from the code's directory, whatever the current one", () => {
    writeFileSync(join(dir, 'package.json'), '{"name":"recon","version":"9.9.9"}');
    mkdirSync(join(dir, 'dist', 'lib'), { recursive: true });
    git(dir, 'init', '-q');
    git(dir, 'add', 'package.json');
    git(dir, 'commit', '-q', '-m', 'c');
    expect(resolveCodeVersion(join(dir, 'dist', 'lib'), {})).toBe(
      git(dir, 'rev-parse', '--short=12', 'HEAD'),
    );
  });

  it('gives the package version, not the commit of a repository the package merely sits in', () => {
    git(dir, 'init', '-q');
    writeFileSync(join(dir, 'outer.txt'), 'x');
    git(dir, 'add', 'outer.txt');
    git(dir, 'commit', '-q', '-m', 'outer');
    const pkg = join(dir, 'node_modules', 'recon');
    mkdirSync(join(pkg, 'dist'), { recursive: true });
    writeFileSync(join(pkg, 'package.json'), '{"name":"recon","version":"9.9.9"}');
    expect(resolveCodeVersion(join(pkg, 'dist'), {})).toBe('package-9.9.9');
  });

  it('prefers a version baked by an image build', () => {
    writeFileSync(join(dir, 'package.json'), '{"name":"recon","version":"9.9.9"}');
    expect(resolveCodeVersion(dir, { RECON_CODE_VERSION: ' image-abc ' })).toBe('image-abc');
    expect(resolveCodeVersion(dir, {})).toBe('package-9.9.9');
  });
});
