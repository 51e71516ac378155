import fc from 'fast-check';
import canonicalize from 'canonicalize';
import { canonicalJson, hashCanonical } from './canonical';
import { canonicalHeader, envelopeHash } from './chain';
import { deterministicEventId } from './ids';

describe('canonical JSON and hashing', () => {
  it('serialises independently of key order and number spelling', () => {
    expect(canonicalJson({ b: 1, a: [1.5, 'x', { d: null, c: 1e21 }] })).toBe('{"a":[1.5,"x",{"c":1e+21,"d":null}],"b":1}');
    expect(hashCanonical({ x: 1, y: 2 })).toBe(hashCanonical({ y: 2, x: 1.0 }));
    expect(hashCanonical({ s: 'é' })).not.toBe(hashCanonical({ s: 'e\u0301' }));
  });

  it('refuses values JSON cannot represent', () => {
    expect(() => canonicalJson(undefined)).toThrow('canonical JSON');
  });

  it('changes the envelope hash when any chained field changes', () => {
    const fields = {
      eventId: 'e',
      streamId: 's',
      position: 1,
      type: 't',
      schemaVersion: 1,
      occurredAt: '2026-01-01T00:00:00.000Z',
      producer: { service: 'api' as const, version: '1', instance: 'i' },
      causationId: null,
      correlationId: null,
      payloadHash: 'a'.repeat(64),
      metaHash: 'b'.repeat(64),
      prevHash: null,
    };
    const base = envelopeHash(fields);
    expect(envelopeHash({ ...fields, position: 2 })).not.toBe(base);
    expect(envelopeHash({ ...fields, prevHash: 'c'.repeat(64) })).not.toBe(base);
    expect(envelopeHash({ ...fields })).toBe(base);
    const odd = { ...fields, streamId: 'ünï\u2028"\\', producer: { service: 'api' as const, version: 'v\n', instance: '€' } };
    expect(JSON.stringify(canonicalHeader(odd))).toBe(canonicalJson(canonicalHeader(odd)));
    // The hash is written without a canonicaliser: it must be the hash of exactly that canonical text.
    for (const f of [fields, odd, { ...fields, causationId: 'c', correlationId: 'd"\u0001', prevHash: 'e'.repeat(64) }])
      expect(envelopeHash(f)).toBe(hashCanonical(canonicalHeader(f)));
  });

  it('derives stable RFC 9562 version-8 event ids', () => {
    const id = deterministicEventId('run-1', 'sft', 3);
    expect(id).toBe(deterministicEventId('run-1', 'sft', 3));
    expect(id).not.toBe(deterministicEventId('run-1', 'sft', 4));
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});

describe('canonicalJson on plain data', () => {
  it('writes exactly the bytes of the canonicalize package (RFC 8785) for generated JSON values', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.object(), (json, object) => {
        expect(canonicalJson(json)).toBe(canonicalize(json));
        // Objects may hold NaN or Infinity: then both refuse.
        const outcome = (serialise: () => string | undefined) => {
          try {
            return serialise();
          } catch (error) {
            return `refused: ${(error as Error).message}`;
          }
        };
        expect(outcome(() => canonicalJson(object))).toBe(outcome(() => canonicalize(object)));
      }),
      { seed: 18, numRuns: 2000 },
    );
    const odd = { b: [undefined, 1], a: { toJSON: () => 'x' }, c: undefined, d: -0, e: 1e21, f: 'é\u2028' };
    expect(canonicalJson(odd)).toBe(canonicalize(odd));
    expect(() => canonicalJson({ x: Number.NaN })).toThrow();
  });
});
