import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { runActivity, STALLED_AFTER_SECONDS, timeAgo, type RunProgress } from './run-activity';

const NOW = new Date('2025-06-01T12:00:00.000Z');
/** The time `ms` milliseconds before NOW. */
const before = (ms: number) => new Date(NOW.getTime() - ms).toISOString();
const STALL_MS = STALLED_AFTER_SECONDS * 1000;

describe('runActivity', () => {
  const unfinished = (eventCount: number, lastEventAt: string): RunProgress => ({
    status: 'requested',
    eventCount,
    lastEventAt,
  });

  it('is requested while nothing but the request is recorded, however old it is', () => {
    expect(runActivity(unfinished(1, before(0)), NOW)).toBe('requested');
    expect(runActivity(unfinished(1, before(STALL_MS + 1)), NOW)).toBe('requested');
  });

  it('is running up to and including the stall threshold, stalled one millisecond after', () => {
    expect(runActivity(unfinished(2, before(0)), NOW)).toBe('running');
    expect(runActivity(unfinished(2, before(STALL_MS - 1)), NOW)).toBe('running');
    expect(runActivity(unfinished(2, before(STALL_MS)), NOW)).toBe('running');
    expect(runActivity(unfinished(2, before(STALL_MS + 1)), NOW)).toBe('stalled');
    expect(runActivity(unfinished(500, before(3 * 86_400_000)), NOW)).toBe('stalled');
  });

  it('counts an event stamped after now (a clock slightly ahead) as running', () => {
    expect(runActivity(unfinished(2, before(-5000)), NOW)).toBe('running');
  });

  it('keeps a finished run’s stored status, however long ago it finished', () => {
    for (const status of ['completed', 'failed'] as const) {
      expect(runActivity({ status, eventCount: 1, lastEventAt: before(0) }, NOW)).toBe(status);
      expect(runActivity({ status, eventCount: 40, lastEventAt: before(STALL_MS + 1) }, NOW)).toBe(status);
    }
  });

  it('names a last event time that is not one', () => {
    expect(() => runActivity(unfinished(2, 'yesterday'), NOW)).toThrow(
      "lastEventAt: expected an ISO 8601 time, got 'yesterday'",
    );
  });

  it('uses the threshold of the ReconRunStalled alert', () => {
    const manifest = parse(
      readFileSync(join(__dirname, '../../../deploy/base/prometheus-rules.yaml'), 'utf8'),
    ) as { spec: { groups: Array<{ rules: Array<{ alert?: string; expr: string }> }> } };
    const alert = manifest.spec.groups.flatMap((g) => g.rules).find((r) => r.alert === 'ReconRunStalled');
    expect(alert?.expr).toBe(`recon:run_seconds_since_last_event > ${STALLED_AFTER_SECONDS}`);
  });
});

describe('timeAgo', () => {
  it.each([
    [0, '0s ago'],
    [999, '0s ago'],
    [12_000, '12s ago'],
    [59_999, '59s ago'],
    [60_000, '1m ago'],
    [3 * 60_000 + 59_000, '3m ago'],
    [3_599_999, '59m ago'],
    [3_600_000, '1h ago'],
    [2 * 3_600_000 + 59 * 60_000, '2h ago'],
    [86_399_999, '23h ago'],
    [86_400_000, '1d ago'],
    [40 * 86_400_000, '40d ago'],
    [-5000, '0s ago'],
  ])('%i ms before now reads %s', (ms, text) => {
    expect(timeAgo(before(ms), NOW)).toBe(text);
  });

  it('names a time that is not one', () => {
    expect(() => timeAgo('', NOW)).toThrow("time: expected an ISO 8601 time, got ''");
  });
});
