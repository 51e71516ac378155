import { sha256Hex } from './canonical';

/**
 * A UUID (version 8, RFC 9562) derived from names, so that re-running the same step yields the same event id
 * and a retried append is recognised as a duplicate instead of being written twice.
 */
export function deterministicEventId(...parts: Array<string | number>): string {
  const hex = sha256Hex(parts.map(String).join('\u0000')).slice(0, 32).split('');
  hex[12] = '8';
  hex[16] = ((parseInt(hex[16], 16) & 0x3) | 0x8).toString(16);
  const h = hex.join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
