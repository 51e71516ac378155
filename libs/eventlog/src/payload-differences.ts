import { canonicalJson } from './canonical';

/**
 * Where two JSON values differ, as dotted paths with both values: `teacher.model: 'a' recorded, 'b' now`.
 * Objects are compared key by key (a key missing on one side counts as absent); anything else, arrays
 * included, is compared whole by its canonical JSON. Used to refuse a reused id whose recorded request
 * asked for something else, naming what.
 */
export function payloadDifferences(recorded: unknown, now: unknown, path = ''): string[] {
  if (isPlainObject(recorded) && isPlainObject(now)) {
    const keys = [...new Set([...Object.keys(recorded), ...Object.keys(now)])].sort();
    return keys.flatMap((key) => payloadDifferences(recorded[key], now[key], path ? `${path}.${key}` : key));
  }
  if (same(recorded, now)) return [];
  return [`${path || '(value)'}: ${shown(recorded)} recorded, ${shown(now)} now`];
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function same(a: unknown, b: unknown): boolean {
  if (a === undefined || b === undefined) return a === b;
  return canonicalJson(a) === canonicalJson(b);
}

function shown(value: unknown): string {
  if (value === undefined) return 'absent';
  const text = typeof value === 'string' ? `'${value}'` : canonicalJson(value);
  return text.length > 80 ? `${text.slice(0, 79)}…` : text;
}
