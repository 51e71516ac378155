import { ApiError, getJson } from './api';
import { h, show } from './dom';
import { reportElements } from './report';
import type { AuditView, VerificationJob } from './types';

const runPath = (runId: string) => `/runs/${encodeURIComponent(runId)}`;

/** The verification panel: the latest `recon replay --verify` and, for operators, a button to start one. */
function verificationPanel(
  runId: string,
  signal: AbortSignal,
  onFinished: () => void,
  latest: VerificationJob | Record<string, never>,
): HTMLElement {
  const status = h('p', { id: 'verify-status', role: 'status' }, 'No verification started from here yet.');
  const output = h('pre', { id: 'verify-output', class: 'output', hidden: true });
  const button = h('button', { type: 'button', id: 'verify-start' }, 'Start replay --verify');
  let timer: number | undefined;
  signal.addEventListener('abort', () => window.clearTimeout(timer));
  const render = (job: VerificationJob | Record<string, never>) => {
    if (!('state' in job)) return;
    const j = job as VerificationJob;
    status.textContent =
      j.state === 'running'
        ? `Running since ${new Date(j.startedAt).toLocaleTimeString()} (started by ${j.startedBy})…`
        : `${j.state === 'succeeded' ? 'Identical: the replay reproduced the run' : j.state === 'diverged' ? 'DIVERGED: the replay differs from the run' : 'Failed'} (exit ${j.exitCode}, finished ${j.finishedAt ? new Date(j.finishedAt).toLocaleTimeString() : '?'}).`;
    status.className = j.state === 'running' ? '' : j.state === 'succeeded' ? 'ok' : 'failure';
    output.hidden = j.output.length === 0;
    output.textContent = j.output.join('\n');
    button.disabled = j.state === 'running';
  };
  // Once a second while a verification runs (one small request, and only then).
  const poll = async (wasRunning: boolean) => {
    if (signal.aborted) return;
    const { body } = await getJson<VerificationJob | Record<string, never>>(
      `${runPath(runId)}/audit/verification`,
      signal,
    );
    render(body);
    const running = 'state' in body && body.state === 'running';
    if (running) timer = window.setTimeout(() => void poll(true).catch(() => undefined), 1000);
    else if (wasRunning) onFinished();
  };
  button.addEventListener('click', async () => {
    button.disabled = true;
    try {
      const { body } = await getJson<VerificationJob>(`${runPath(runId)}/audit/verification`, signal, 'POST');
      render(body);
      void poll(true).catch(() => undefined);
    } catch (error) {
      button.disabled = false;
      status.className = 'failure';
      status.textContent =
        error instanceof ApiError && error.status === 403
          ? 'Starting a verification needs an operator token.'
          : error instanceof Error
            ? error.message
            : String(error);
    }
  });
  // The page is drawn with the latest verification already in it (a redraw after one finished must not flash
  // "none yet"); a running one is followed from here.
  render(latest);
  if ('state' in latest && latest.state === 'running')
    timer = window.setTimeout(() => void poll(true).catch(() => undefined), 1000);
  return h(
    'section',
    { class: 'verification' },
    h('h2', {}, 'Re-execute and compare'),
    h(
      'p',
      {},
      h('code', {}, `recon replay ${runId} --verify`),
      ' re-runs the run from its recorded config and seed with this code and compares every event; the outcome is recorded on the run. Needs an operator token.',
    ),
    button,
    status,
    output,
  );
}

/** The audit page: the verdict (chain, signed checkpoint, blobs) first, then the audit report's sections. */
export async function auditView(main: HTMLElement, runId: string, signal: AbortSignal): Promise<void> {
  const [{ body: audit }, { body: latest }] = await Promise.all([
    getJson<AuditView>(`${runPath(runId)}/audit/report`, signal),
    getJson<VerificationJob | Record<string, never>>(`${runPath(runId)}/audit/verification`, signal),
  ]);
  const { chain } = audit;
  const broken = chain.firstBroken;
  show(
    main,
    h('h1', {}, 'Audit of ', h('a', { href: `#${runPath(runId)}` }, runId)),
    h(
      'p',
      { id: 'audit-verdict', class: audit.ok ? 'verdict ok' : 'verdict failure', role: 'status' },
      audit.ok ? '✔ AUDIT PASSED' : '✘ AUDIT FAILED',
    ),
    h(
      'dl',
      { class: 'audit-summary' },
      h('dt', {}, 'hash chain'),
      h(
        'dd',
        { id: 'chain-status', class: chain.ok ? 'ok' : 'failure' },
        chain.ok
          ? [
              `intact: ${chain.eventsChecked} events verified, head `,
              h('code', {}, chain.headHash ?? '–'),
              chain.tombstoned ? `, ${chain.tombstoned} withdrawn by recorded deletions` : '',
            ]
          : [
              `BROKEN at position ${broken!.position} (event ${broken!.eventId ?? '–'}): check ${broken!.check}, expected `,
              h('code', {}, broken!.expected),
              ', found ',
              h('code', {}, broken!.found),
            ],
      ),
      h('dt', {}, 'signed checkpoint'),
      h('dd', {}, audit.checkpoint.description),
      h('dt', {}, 'blobs'),
      h(
        'dd',
        { class: !audit.blobs.ok ? 'failure' : chain.ok ? 'ok' : '' },
        audit.blobs.description,
        audit.blobs.firstProblem ? `; first problem: ${audit.blobs.firstProblem}` : '',
        // The audit reads the chain up to its first broken link: later events' blobs were not looked at.
        chain.ok ? '' : ` (only the events before position ${broken!.position} were read)`,
      ),
    ),
    verificationPanel(
      runId,
      signal,
      () => void auditView(main, runId, signal).catch(() => undefined),
      latest,
    ),
    h(
      'div',
      { class: 'report-blocks' },
      ...reportElements(audit.report, ['Hash chain', 'Signed log checkpoint', 'Blobs']),
    ),
  );
}
