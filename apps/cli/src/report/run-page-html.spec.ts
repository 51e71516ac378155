import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RecordedEvent } from '@recon/eventlog';
import { syntheticRunEvents } from '../demo/synthetic-run';
import { runPageHtml } from './run-page-html';

const hash = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;

function recorded(runId: string): RecordedEvent[] {
  return syntheticRunEvents(runId).map(
    (e, i) =>
      ({
        ...e,
        version: 1,
        position: i + 1,
        occurredAt: '2026-01-01T00:00:00.000Z',
        tombstonedBy: null,
      }) as unknown as RecordedEvent,
  );
}

describe('runPageHtml', () => {
  const assets = mkdtempSync(join(tmpdir(), 'explorer-assets-'));
  writeFileSync(join(assets, 'app.js'), 'console.log("</script><!-- x")');
  writeFileSync(join(assets, 'app.css'), 'body{color:red}');

  it('inlines the bundle and styles allowed by their hashes, and the data as inert JSON', () => {
    const events = recorded('r1');
    (events.find((e) => e.type === 'rollout.generated')!.payload as { completion: string }).completion =
      '</script><script>alert(1)</script>';
    const html = runPageHtml('r1', events, assets);
    const script = /<script>([\s\S]*?)<\/script>/.exec(html)![1];
    const style = /<style>([\s\S]*?)<\/style>/.exec(html)![1];
    // A `</script` in the bundle cannot end its element.
    expect(script).toBe('console.log("<\\/script><\\!-- x")');
    const csp = /http-equiv="Content-Security-Policy" content="([^"]+)"/.exec(html)![1];
    expect(csp).toBe(
      `default-src 'none'; script-src ${hash(script)}; style-src ${hash(style)}; img-src data:; base-uri 'none'; form-action 'none'`,
    );
    const json = /<script type="application\/json" id="run-data">([\s\S]*?)<\/script>/.exec(html)![1];
    expect(json).not.toContain('<');
    expect(JSON.parse(json).view.runId).toBe('r1');
    expect(JSON.parse(json).run).toEqual({ kind: 'training', status: 'completed', failure: null });
  });

  it('names the missing build', () => {
    expect(() => runPageHtml('r1', recorded('r1'), join(assets, 'absent'))).toThrow(
      /the explorer is not built/,
    );
  });
});
