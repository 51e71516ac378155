import { readFileSync } from 'node:fs';
import { LineCounter, isMap, isSeq, parseDocument, type Node } from 'yaml';
import { experimentConfigSchema, type ExperimentConfig } from './experiment-config';

/** A config that cannot be used; the message names the file, the line and the key. */
export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly line: number | null,
    readonly key: string,
    readonly reason: string,
  ) {
    super(`${file}${line === null ? '' : `:${line}`}: ${key ? `'${key}': ` : ''}${reason}`);
    this.name = 'ConfigError';
  }
}

/** The nodes along a key path: the deepest value reached, and the key node of the last segment if found. */
function walk(
  root: Node | null,
  path: ReadonlyArray<PropertyKey>,
): { deepest: Node | null; key: Node | null } {
  let node: Node | null = root;
  let deepest: Node | null = root;
  let key: Node | null = null;
  for (const segment of path) {
    key = null;
    if (isMap(node)) {
      const pair = node.items.find(
        (item) => String((item.key as { value?: unknown } | null)?.value) === String(segment),
      );
      key = (pair?.key as Node | undefined) ?? null;
      node = (pair?.value as Node | undefined) ?? null;
    } else if (isSeq(node)) node = (node.get(Number(segment), true) as Node | undefined) ?? null;
    else node = null;
    if (!node) break;
    deepest = node;
  }
  return { deepest, key };
}

/**
 * The line of a dotted key (e.g. `evaluation.gtbench.maxNewTokens`) in a config file, for errors about a
 * valid config's settings; null when the file cannot be read or does not spell the key.
 */
export function configKeyLine(file: string, key: string): number | null {
  try {
    const lineCounter = new LineCounter();
    const document = parseDocument(readFileSync(file, 'utf8'), { lineCounter });
    const offset = walk(document.contents as Node | null, key.split('.')).key?.range?.[0];
    return offset === undefined ? null : lineCounter.linePos(offset).line;
  } catch {
    return null;
  }
}

/** Parses and validates an experiment config (YAML or JSON text), naming the key and line of any problem. */
export function parseExperimentConfig(text: string, file = '<config>'): ExperimentConfig {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false });
  const lineOf = (offset: number | undefined) =>
    offset === undefined ? null : lineCounter.linePos(offset).line;
  if (document.errors.length > 0) {
    const error = document.errors[0];
    throw new ConfigError(file, lineOf(error.pos[0]), '', `invalid YAML: ${error.message.split('\n')[0]}`);
  }
  const result = experimentConfigSchema.safeParse(document.toJS());
  if (!result.success) {
    const issue = result.error.issues[0];
    const node = walk(document.contents as Node | null, issue.path).deepest;
    const key = issue.path.map(String).join('.');
    const reason =
      issue.code === 'unrecognized_keys'
        ? `unknown key(s) ${issue.keys.map((k) => `'${k}'`).join(', ')}`
        : issue.message;
    throw new ConfigError(file, lineOf(node?.range?.[0]) ?? 1, key, reason);
  }
  return result.data;
}

export function loadExperimentConfig(file: string): ExperimentConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(file, null, '', `cannot read the file (${(error as NodeJS.ErrnoException).code})`);
  }
  return parseExperimentConfig(text, file);
}
