import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { RecordedEvent } from '@recon/eventlog';
import { explorerAssetsDir } from '@recon/api';
import { buildRunView } from '@recon/run-report';

const sha256 = (text: string) => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

/** Text that cannot end the element it is inlined in, nor open a comment or CDATA there. */
const inScript = (text: string) => text.replace(/<\/(script)/gi, '<\\/$1').replace(/<!--/g, '<\\!--');

/** JSON whose `<`, `>` and `&` are escaped, so no string in it can close or confuse the script element. */
const jsonInHtml = (value: unknown) =>
  JSON.stringify(value).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026');

const escapeHtml = (text: string) =>
  text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );

function runStatus(events: readonly RecordedEvent[]) {
  const failed = events.find((e) => e.type === 'run.failed');
  const completed = events.some((e) => e.type === 'run.completed');
  const kind = events.some((e) => e.type === 'external.evaluation.requested') ? 'external-eval' : 'training';
  return {
    kind,
    status: failed ? 'failed' : completed ? 'completed' : 'requested',
    failure: failed
      ? `${failed.payload.phase}: ${failed.payload.error}`
      : null,
  };
}

/**
 * The explorer's run page as one self-contained HTML file (`recon report <run> --html`): the explorer bundle
 * and its styles inlined, the page's data embedded as JSON in a non-executed script element, and a
 * Content-Security-Policy (meta tag) that allows exactly that script and that style by their hashes and
 * nothing from anywhere else. Opened from disk, it draws the same charts and tables as the served page.
 */
export function runPageHtml(
  runId: string,
  events: readonly RecordedEvent[],
  assetsDir = explorerAssetsDir(),
): string {
  const files = ['app.js', 'app.css'].map((name) => join(assetsDir, name));
  const absent = files.find((file) => !existsSync(file));
  if (absent) throw new Error(`the explorer is not built (no ${absent}): run \`npm run build\``);
  const script = inScript(readFileSync(files[0], 'utf8'));
  const style = readFileSync(files[1], 'utf8').replace(/<\/(style)/gi, '<\\/$1');
  const view = buildRunView(runId, events);
  const csp = [
    "default-src 'none'",
    `script-src ${sha256(script)}`,
    `style-src ${sha256(style)}`,
    'img-src data:',
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8" />',
    `<meta http-equiv="Content-Security-Policy" content="${csp}" />`,
    '<meta name="viewport" content="width=device-width, initial-scale=1" />',
    '<meta name="referrer" content="no-referrer" />',
    `<title>${escapeHtml(`Recon run ${view.name ?? runId}`)}</title>`,
    `<style>${style}</style>`,
    '</head>',
    '<body>',
    `<header class="top"><span class="brand">Recon run report · ${escapeHtml(runId)}</span><nav id="nav"></nav></header>`,
    '<main id="main" tabindex="-1"><p>This page needs JavaScript to draw its charts and tables.</p></main>',
    `<script type="application/json" id="run-data">${jsonInHtml({ view, run: runStatus(events) })}</script>`,
    `<script>${script}</script>`,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

/** `recon report <run> --html <file>`: writes the page (creating the folder). */
export function writeRunPageHtml(runId: string, events: readonly RecordedEvent[], file: string): void {
  const html = runPageHtml(runId, events);
  mkdirSync(dirname(resolve(file)), { recursive: true });
  writeFileSync(file, html);
}
