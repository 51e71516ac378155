import { readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { anchorsOf, brokenLinks } from '../../scripts/docs/markdown-links';

const root = resolve(__dirname, '../..');
const docs = (readdirSync(resolve(root, 'docs'), { recursive: true }) as string[])
  .filter((file) => file.endsWith('.md'))
  .map((file) => `docs/${file.split('\\').join('/')}`);

describe('documentation links', () => {
  it.each(['README.md', 'bench/README.md', 'deploy/README.md', ...docs])(
    'every relative link and anchor in %s resolves',
    (file) => {
      expect(brokenLinks(root, file)).toEqual([]);
    },
  );

  it('finds a broken link, a missing file and a missing anchor', () => {
    const broken = brokenLinks(resolve(__dirname, 'fixtures'), 'broken-links.md').map((link) => link.target);
    expect(broken).toEqual(['missing.md', 'broken-links.md#no-such-heading', '#nowhere']);
  });

  it('computes anchors as GitHub does', () => {
    const anchors = anchorsOf(
      '# Kafka security (SASL/SCRAM, TLS)\n## `recon run`\n## Notes\n## Notes\n```\n# not a heading\n```\n',
    );
    expect([...anchors]).toEqual(['kafka-security-saslscram-tls', 'recon-run', 'notes', 'notes-1']);
  });
});
