import type { GameDecoding } from '@recon/games';

/**
 * Match ids of a suite: `<run>/<stage>/...` for free-form play (as before decoding modes existed), and
 * `<run>/<stage>/constrained/...` for constrained play, so the two plays of one match never share an id.
 */
export const matchNamespace = (runId: string, stage: string, decoding: GameDecoding) =>
  decoding === 'free' ? `${runId}/${stage}` : `${runId}/${stage}/constrained`;

/**
 * Result keys name the decoding that produced them: free-form results keep their keys (`gtbench.…`),
 * constrained ones move to a suite of their own (`gtbench-constrained.…`, `complete-info-constrained.…`).
 */
export function labelDecoding(
  results: Record<string, number>,
  suite: 'complete-info' | 'gtbench',
  decoding: GameDecoding,
): Record<string, number> {
  if (decoding === 'free') return results;
  return Object.fromEntries(
    Object.entries(results).map(([key, value]) => [
      key.startsWith(`${suite}.`) ? `${suite}-constrained.${key.slice(suite.length + 1)}` : key,
      value,
    ]),
  );
}
