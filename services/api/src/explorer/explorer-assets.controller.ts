import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Controller, Get, NotFoundException, Param, Res } from '@nestjs/common';
import { SkipThrottle } from '@nestjs/throttler';
import { Public } from '@recon/service-kit';
import type { ServerResponse } from 'node:http';

/**
 * No inline script or style, nothing from another origin, no framing, no form posts: the page runs only the
 * gateway's own bundle, which talks only to the gateway.
 */
export const EXPLORER_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
};

/** Where `npm run build` puts the explorer's bundle (apps/explorer/build.js): dist/explorer. */
export function explorerAssetsDir(): string {
  // From services/api/src/explorer (ts-run, jest) or dist/services/api/src/explorer (built).
  const root = resolve(__dirname, '../../../..');
  const candidates = [join(root, 'dist', 'explorer'), join(root, 'explorer')];
  return candidates.find((dir) => existsSync(join(dir, 'index.html'))) ?? candidates[0];
}

/** The built files, read once: index.html, app.js, app.css. */
function loadAssets(dir: string): Map<string, Buffer> {
  const assets = new Map<string, Buffer>();
  for (const name of ['index.html', 'app.js', 'app.css']) {
    const file = join(dir, name);
    if (existsSync(file)) assets.set(name, readFileSync(file));
  }
  return assets;
}

/**
 * The run explorer's static files. They hold no data (every view fetches its data from the token-guarded
 * routes with the token the user typed), so they are public, as a login page must be, and, like the health
 * probes, outside the per-token rate limit.
 */
@Public()
@SkipThrottle()
@Controller()
export class ExplorerAssetsController {
  private readonly assets = loadAssets(explorerAssetsDir());

  private send(response: ServerResponse, name: string): void {
    const body = this.assets.get(name);
    if (!body)
      throw new NotFoundException(
        name === 'index.html'
          ? 'the explorer is not built: run `npm run build`'
          : `no explorer asset '${name}'`,
      );
    response.writeHead(200, {
      'Content-Type': TYPES[name.slice(name.lastIndexOf('.'))],
      'Content-Length': body.length,
      'Content-Security-Policy': EXPLORER_CSP,
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
      'X-Frame-Options': 'DENY',
      'Cache-Control': 'no-cache',
    });
    response.end(body);
  }

  /** The page, at the gateway's root (the URL `recon api` prints) and at /explorer. */
  @Get(['', 'explorer'])
  page(@Res() response: ServerResponse): void {
    this.send(response, 'index.html');
  }

  @Get('explorer/assets/:name')
  asset(@Param('name') name: string, @Res() response: ServerResponse): void {
    if (!['app.js', 'app.css'].includes(name)) throw new NotFoundException(`no explorer asset '${name}'`);
    this.send(response, name);
  }
}
