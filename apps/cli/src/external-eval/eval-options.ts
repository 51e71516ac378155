import { EXTERNAL_SUITES, type ExternalSuite } from '@recon/contracts';

/** A command-line value that is wrong; the message names the option and what it expected. */
export class EvalUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EvalUsageError';
  }
}

/** `--policy openai:<base-url>`: the OpenAI-compatible server's base URL (http or https). */
export function parsePolicySpec(spec: string): { kind: 'openai'; baseUrl: string } {
  const match = /^openai:(.+)$/.exec(spec.trim());
  if (!match)
    throw new EvalUsageError(
      `--policy '${spec}': expected openai:<base-url>, e.g. openai:http://127.0.0.1:8000/v1`,
    );
  let url: URL;
  try {
    url = new URL(match[1]);
  } catch {
    throw new EvalUsageError(`--policy '${spec}': '${match[1]}' is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new EvalUsageError(`--policy '${spec}': the URL must be http or https, not ${url.protocol}`);
  return { kind: 'openai', baseUrl: match[1].replace(/\/+$/, '') };
}

function parseList<T extends string>(option: string, value: string, known: readonly T[]): T[] {
  const names = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (names.length === 0) throw new EvalUsageError(`${option}: name at least one of ${known.join(', ')}`);
  for (const name of names)
    if (!known.includes(name as T))
      throw new EvalUsageError(
        `${option}: unknown ${option.slice(2)} '${name}' (known: ${known.join(', ')})`,
      );
  return [...new Set(names as T[])];
}

/** `--suite a,b`: suite names, each known, in the order given, without repeats. */
export function parseSuites(value: string): ExternalSuite[] {
  return parseList('--suite', value, EXTERNAL_SUITES);
}

/** A stream id for an evaluation: `eval-<model>-<time>` with the model's name made safe. */
export function defaultEvalId(model: string, now: Date, nonce: string): string {
  const safe =
    model
      .replace(/[^A-Za-z0-9._-]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 48) || 'model';
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `eval-${safe}-${stamp}-${nonce}`;
}
