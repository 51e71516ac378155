import { runActivity, STALLED_AFTER_SECONDS, timeAgo, type RunActivity } from '@recon/run-activity';
import { getJson, subscribe } from './api';
import { lineChart } from './chart';
import { diffElement } from './diff';
import { duration, fmt, h, show, type Child } from './dom';
import { reportElements } from './report';
import type { GroupCompletion, RecordedEvent, Run, RunView, StepGroups } from './types';

export const runHref = (runId: string, rest = '') => `#/runs/${encodeURIComponent(runId)}${rest}`;

const STAGES = ['untrained', 'sft', 'grpo', 'external'];

/** The headline accuracy of each stage from the run's summary (`<stage>.<suite>.accuracy`, held-out first). */
export function headlineAccuracy(summary: Record<string, number> | null): Array<[string, number]> {
  if (!summary) return [];
  const found: Array<[string, number]> = [];
  for (const stage of STAGES) {
    const keys = Object.keys(summary).filter(
      (k) => k.startsWith(`${stage}.`) && k.endsWith('.accuracy') && k.split('.').length === 3,
    );
    const key = keys.find((k) => k.includes('.held-out.')) ?? keys.sort()[0];
    if (key) found.push([stage, summary[key]]);
  }
  return found;
}

type SortKey = 'kind' | 'name' | 'status' | 'lastEvent' | 'model' | 'seed' | 'started' | 'duration';
const COLUMNS: Array<[SortKey | null, string]> = [
  ['kind', 'kind'],
  ['name', 'name'],
  ['status', 'status'],
  ['lastEvent', 'last event'],
  ['model', 'model'],
  ['seed', 'seed'],
  [null, 'lineage'],
  ['started', 'started'],
  ['duration', 'duration'],
  [null, 'accuracy by stage'],
];

const runDuration = (r: Run) => (r.finishedAt ? Date.parse(r.finishedAt) - Date.parse(r.requestedAt) : NaN);

/** How often the runs list brings its ages (and running/stalled) up to the clock between updates. */
const AGE_TICK_MS = 5000;

const STALLED_TITLE =
  `no event for more than ${STALLED_AFTER_SECONDS / 60} minutes: its services stopped or it was abandoned ` +
  '(recon resume carries it on, recon cancel ends it)';

/** What a run is doing at `now`: requested, running or stalled while unfinished, else its stored status. */
function activityBadge(run: Pick<Run, 'status' | 'eventCount' | 'lastEventAt' | 'failure'>, now: Date) {
  const activity = runActivity(run, now);
  const title = activity === 'stalled' ? STALLED_TITLE : (run.failure ?? undefined);
  return h('span', { class: `status ${activity}`, title }, activity);
}

function sortValue(run: Run, key: SortKey, now: Date): string | number {
  switch (key) {
    case 'status':
      return runActivity(run, now);
    case 'lastEvent':
      return run.lastEventAt;
    case 'seed':
      return Number(run.seed);
    case 'started':
      return run.requestedAt;
    case 'duration':
      return runDuration(run) || -1;
    default:
      return run[key] ?? '';
  }
}

/** The runs list: filter, sort (stable: ties by run id), live status from the gateway's event stream. */
export function runsView(main: HTMLElement, signal: AbortSignal): void {
  let runs: Run[] = [];
  let sort: { key: SortKey; descending: boolean } = { key: 'started', descending: true };
  const filter = h('input', {
    type: 'search',
    id: 'run-filter',
    placeholder: 'name, id, model…',
    'aria-label': 'filter runs',
  });
  const status = h(
    'select',
    { id: 'status-filter', 'aria-label': 'status' },
    ...['all', 'requested', 'running', 'stalled', 'completed', 'failed'].map((s) =>
      h('option', { value: s }, s),
    ),
  );
  const live = h('span', { class: 'live', role: 'status' }, 'connecting…');
  // Runs ticked for comparison, in the order they were ticked (the first is the baseline).
  const picked: string[] = [];
  const compare = h('button', { type: 'button', id: 'compare-runs', disabled: true }, 'Compare ticked runs');
  compare.addEventListener('click', () => {
    location.hash = `#/compare?${new URLSearchParams(picked.map((id) => ['run', id]))}`;
  });
  const pick = (runId: string, on: boolean) => {
    const at = picked.indexOf(runId);
    if (on && at < 0) picked.push(runId);
    if (!on && at >= 0) picked.splice(at, 1);
    compare.disabled = picked.length < 2;
    compare.textContent = picked.length < 2 ? 'Compare ticked runs' : `Compare ${picked.length} runs`;
  };
  const table = h('table', { class: 'runs' });
  // The activity each run was drawn with: the clock ticking one over (running to stalled) draws the list again.
  let drawn = new Map<string, RunActivity>();
  const render = () => {
    const now = new Date();
    drawn = new Map(runs.map((r) => [r.runId, runActivity(r, now)]));
    const text = filter.value.trim().toLowerCase();
    const shown = runs
      .filter((r) => status.value === 'all' || drawn.get(r.runId) === status.value)
      .filter(
        (r) => !text || [r.runId, r.name, r.model ?? '', r.kind].some((v) => v.toLowerCase().includes(text)),
      )
      .sort((a, b) => {
        const [x, y] = [sortValue(a, sort.key, now), sortValue(b, sort.key, now)];
        const order = x < y ? -1 : x > y ? 1 : a.runId.localeCompare(b.runId);
        return sort.descending && x !== y ? -order : order;
      });
    table.replaceChildren(
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'compare')),
          ...COLUMNS.map(([key, label]) =>
            key
              ? h(
                  'th',
                  {
                    scope: 'col',
                    'aria-sort': sort.key === key ? (sort.descending ? 'descending' : 'ascending') : 'none',
                  },
                  h(
                    'button',
                    {
                      type: 'button',
                      class: 'sort',
                      onclick: () => {
                        sort = { key, descending: sort.key === key ? !sort.descending : false };
                        render();
                      },
                    },
                    label,
                    sort.key === key ? (sort.descending ? ' ▼' : ' ▲') : '',
                  ),
                )
              : h('th', { scope: 'col' }, label),
          ),
        ),
      ),
      h(
        'tbody',
        {},
        ...shown.map((r) =>
          h(
            'tr',
            { 'data-run': r.runId },
            h(
              'td',
              {},
              h('input', {
                type: 'checkbox',
                'aria-label': `compare ${r.runId}`,
                'data-compare': r.runId,
                checked: picked.includes(r.runId),
                onchange: (e: Event) => pick(r.runId, (e.target as HTMLInputElement).checked),
              }),
            ),
            h('td', {}, r.kind),
            h('td', {}, h('a', { href: runHref(r.runId) }, r.name), h('div', { class: 'muted' }, r.runId)),
            h('td', {}, activityBadge(r, now)),
            h(
              'td',
              { 'data-last-event': r.lastEventAt, title: new Date(r.lastEventAt).toLocaleString() },
              timeAgo(r.lastEventAt, now),
            ),
            h('td', {}, r.model ?? '–'),
            h('td', { class: 'num' }, r.seed),
            h(
              'td',
              {},
              r.parentRunId
                ? [h('a', { href: runHref(r.parentRunId) }, r.parentRunId), ` @ ${r.parentStep ?? '?'}`]
                : '–',
            ),
            h('td', {}, new Date(r.requestedAt).toLocaleString()),
            h('td', { class: 'num' }, duration(runDuration(r))),
            h(
              'td',
              {},
              headlineAccuracy(r.summary).map(([stage, acc]) =>
                h('span', { class: 'acc' }, `${stage} ${(acc * 100).toFixed(1)}%`),
              ),
            ),
          ),
        ),
      ),
    );
    if (shown.length === 0)
      table.append(
        h(
          'caption',
          {},
          runs.length === 0 ? 'No runs yet: `npm start` records one.' : 'No run matches the filter.',
        ),
      );
  };
  filter.addEventListener('input', render);
  status.addEventListener('change', render);
  const tick = setInterval(() => {
    const now = new Date();
    if (runs.some((r) => drawn.get(r.runId) !== runActivity(r, now))) return render();
    for (const cell of table.querySelectorAll<HTMLElement>('td[data-last-event]'))
      cell.textContent = timeAgo(cell.dataset.lastEvent!, now);
  }, AGE_TICK_MS);
  signal.addEventListener('abort', () => clearInterval(tick));
  show(
    main,
    h('h1', {}, 'Runs'),
    h(
      'div',
      { class: 'toolbar' },
      h('label', {}, 'Filter ', filter),
      h('label', {}, 'Status ', status),
      compare,
      live,
    ),
    h('div', { class: 'table-scroll' }, table),
  );
  void getJson<Run[]>('/runs?sort=-requestedAt', signal).then(({ body }) => {
    runs = body;
    render();
  });
  subscribe(
    '/live/runs',
    (event, data) => {
      if (event !== 'runs') return;
      runs = JSON.parse(data) as Run[];
      live.textContent = `live · updated ${new Date().toLocaleTimeString()}`;
      render();
    },
    signal,
  );
}

function section(title: string, ...children: Child[]): HTMLElement {
  return h('section', {}, h('h2', {}, title), ...children);
}

/** The run page: config, datasets, curves, tables 3-5, with links to events and rollouts. */
export async function runView(main: HTMLElement, runId: string, signal: AbortSignal): Promise<void> {
  const started = performance.now();
  const [{ body: view }, { body: run }] = await Promise.all([
    getJson<RunView>(`/runs/${encodeURIComponent(runId)}/view`, signal),
    getJson<Run>(`/runs/${encodeURIComponent(runId)}`, signal),
  ]);
  renderRunPage(main, view, run);
  main.dataset.interactiveMs = String(Math.round(performance.now() - started));
}

/**
 * What the page says of the run's status: from the run list's row, what it is doing now and when it last
 * recorded an event. The HTML export (`recon report --html`) has no last event: a snapshot cannot tell running
 * from stalled, so it shows an unfinished run as such.
 */
export type RunStatus = Pick<Run, 'kind' | 'status' | 'failure'> &
  Partial<Pick<Run, 'eventCount' | 'lastEventAt'>>;

function statusElements(run: RunStatus): Child[] {
  if (run.eventCount === undefined || run.lastEventAt === undefined)
    return [
      h('span', { class: `status ${run.status}` }, run.status === 'requested' ? 'unfinished' : run.status),
    ];
  const now = new Date();
  const progress = { ...run, eventCount: run.eventCount, lastEventAt: run.lastEventAt };
  return [activityBadge(progress, now), ` · last event ${timeAgo(run.lastEventAt, now)}`];
}

/**
 * Renders the run page from its data. `offline` (the `recon report --html` file): no links to the server's
 * other views (events, GRPO groups, replays, audit), since the file is read without one.
 */
export function renderRunPage(main: HTMLElement, view: RunView, run: RunStatus, offline = false): void {
  const runId = view.runId;
  const openStep = offline ? undefined : (step: number) => (location.hash = runHref(runId, `/steps/${step}`));
  const componentKeys = [
    ...new Set(view.grpo.flatMap((p) => Object.keys(p).filter((k) => k.startsWith('reward.')))),
  ];
  const charts = [
    view.sft.length > 0 &&
      lineChart({
        title: 'SFT loss',
        yLabel: 'loss',
        points: view.sft,
        metrics: [{ key: 'loss', label: 'loss' }],
      }),
    view.grpo.length > 0 &&
      lineChart({
        title: 'GRPO reward (mean and per component)',
        yLabel: 'reward',
        points: view.grpo,
        metrics: [
          { key: 'rewardMean', label: 'reward mean' },
          ...componentKeys.map((k) => ({ key: k, label: k.slice(7) })),
        ],
        onStep: openStep,
      }),
    view.grpo.length > 0 &&
      lineChart({
        title: 'GRPO KL to the reference',
        yLabel: 'KL',
        points: view.grpo,
        metrics: [{ key: 'kl', label: 'KL' }],
        onStep: openStep,
      }),
    view.sft.length > 0 &&
      lineChart({
        title: 'SFT gradient norm',
        yLabel: 'grad norm',
        points: view.sft,
        metrics: [{ key: 'gradNorm', label: 'grad norm' }],
      }),
    view.grpo.length > 0 &&
      lineChart({
        title: 'GRPO gradient norm',
        yLabel: 'grad norm',
        points: view.grpo,
        metrics: [{ key: 'gradNorm', label: 'grad norm' }],
        onStep: openStep,
      }),
    view.sft.length > 0 &&
      lineChart({
        title: 'SFT learning rate',
        yLabel: 'learning rate',
        points: view.sft,
        metrics: [{ key: 'learningRate', label: 'lr' }],
      }),
    view.grpo.length > 0 &&
      lineChart({
        title: 'GRPO learning rate',
        yLabel: 'learning rate',
        points: view.grpo,
        metrics: [{ key: 'learningRate', label: 'lr' }],
        onStep: openStep,
      }),
    view.sft.some((p) => p.tokensPerSecond !== undefined) &&
      lineChart({
        title: 'SFT tokens per second',
        yLabel: 'tokens/s',
        points: view.sft,
        metrics: [{ key: 'tokensPerSecond', label: 'tokens/s' }],
      }),
  ];
  show(
    main,
    h('h1', {}, view.name ?? runId),
    h(
      'p',
      { class: 'meta' },
      `${run.kind} · `,
      statusElements(run),
      ` · ${runId} · seed ${view.seed ?? '–'} · ${view.events} events`,
      offline
        ? null
        : [
            ' · ',
            h('a', { href: runHref(runId, '/events') }, 'events'),
            view.rolloutSteps.length > 0
              ? [' · ', h('a', { href: runHref(runId, `/steps/${view.rolloutSteps[0]}`) }, 'GRPO groups')]
              : null,
            view.matches > 0
              ? [' · ', h('a', { href: runHref(runId, '/games') }, `game replays (${view.matches})`)]
              : null,
            ' · ',
            h('a', { href: runHref(runId, '/audit') }, 'audit'),
          ],
    ),
    run.failure ? h('p', { class: 'failure' }, `failed: ${run.failure}`) : null,
    section(
      'Training curves',
      charts.length > 0
        ? h('div', { class: 'charts' }, ...charts)
        : h('p', {}, 'No training steps recorded.'),
    ),
    section(
      'Datasets',
      view.datasets.length > 0
        ? h(
            'table',
            { class: 'datasets' },
            h(
              'thead',
              {},
              h(
                'tr',
                {},
                ...['role', 'name', 'split', 'rows', 'version hash', 'blob hash'].map((c) =>
                  h('th', { scope: 'col' }, c),
                ),
              ),
            ),
            h(
              'tbody',
              {},
              ...view.datasets.map((d) =>
                h(
                  'tr',
                  {},
                  h('td', {}, d.role),
                  h('td', {}, d.name),
                  h('td', {}, d.split),
                  h('td', { class: 'num' }, d.rowCount),
                  h('td', {}, h('code', {}, d.versionHash)),
                  h('td', {}, h('code', {}, d.blobHash)),
                ),
              ),
            ),
          )
        : h('p', {}, 'No datasets resolved.'),
    ),
    h('div', { class: 'report-blocks' }, ...reportElements(view.report, ['Training'])),
    section(
      'Config',
      view.configHash ? h('p', {}, 'config hash ', h('code', {}, view.configHash)) : null,
      h('pre', { class: 'config' }, view.configYaml ?? '(none recorded)'),
    ),
  );
}

const PAGE = 100;

/** The events of a run, a page at a time (the gateway pages them), filtered by type and position. */
export async function eventsView(
  main: HTMLElement,
  runId: string,
  params: URLSearchParams,
  signal: AbortSignal,
): Promise<void> {
  const after = Number(params.get('after') ?? '0');
  const type = params.get('type') ?? '';
  const query = new URLSearchParams({ limit: String(PAGE), after: String(after) });
  if (type) query.set('type', type);
  const { body: events, response } = await getJson<RecordedEvent[]>(
    `/runs/${encodeURIComponent(runId)}/events?${query}`,
    signal,
  );
  const next = response.headers.get('X-Next-After');
  const go = (changes: Record<string, string>) => {
    const p = new URLSearchParams({ after: String(after), ...(type ? { type } : {}), ...changes });
    if (!p.get('type')) p.delete('type');
    location.hash = runHref(runId, `/events?${p}`);
  };
  const typeInput = h('input', {
    id: 'event-type',
    value: type,
    placeholder: 'e.g. reward.scored',
    'aria-label': 'event type',
    list: 'event-types',
  });
  const position = h('input', {
    id: 'event-position',
    type: 'number',
    min: 1,
    placeholder: 'position',
    'aria-label': 'from position',
  });
  show(
    main,
    h('h1', {}, 'Events of ', h('a', { href: runHref(runId) }, runId)),
    h(
      'form',
      {
        class: 'toolbar',
        onsubmit: (event: Event) => {
          event.preventDefault();
          go({
            type: typeInput.value.trim(),
            after: position.value ? String(Math.max(0, Number(position.value) - 1)) : '0',
          });
        },
      },
      h('label', {}, 'Type ', typeInput),
      h(
        'datalist',
        { id: 'event-types' },
        ...[...new Set(events.map((e) => e.type))].map((t) => h('option', { value: t })),
      ),
      h('label', {}, 'From position ', position),
      h('button', { type: 'submit' }, 'Apply'),
    ),
    h(
      'p',
      { class: 'pager' },
      after > 0 ? h('button', { type: 'button', onclick: () => history.back() }, '← previous') : null,
      ` positions ${events[0]?.position ?? '–'}–${events[events.length - 1]?.position ?? '–'}${type ? ` of type ${type}` : ''} `,
      next
        ? h('button', { type: 'button', id: 'next-page', onclick: () => go({ after: next }) }, 'next →')
        : null,
    ),
    h(
      'ol',
      { class: 'events' },
      ...events.map((e) =>
        h(
          'li',
          {},
          h(
            'details',
            {},
            h(
              'summary',
              {},
              h('span', { class: 'num' }, `#${e.position}`),
              ' ',
              h('code', {}, `${e.type} v${e.version}`),
              h('span', { class: 'muted' }, ` ${e.occurredAt}`),
            ),
            h('pre', {}, JSON.stringify(e.payload, null, 2)),
          ),
        ),
      ),
    ),
  );
}

/** One GRPO step's groups: each prompt's completions side by side, with rewards, advantage and finish. */
export async function groupsView(
  main: HTMLElement,
  runId: string,
  step: number,
  params: URLSearchParams,
  signal: AbortSignal,
): Promise<void> {
  const [{ body: groups }, { body: view }] = await Promise.all([
    getJson<StepGroups>(`/runs/${encodeURIComponent(runId)}/steps/${step}/groups`, signal),
    getJson<RunView>(`/runs/${encodeURIComponent(runId)}/view`, signal),
  ]);
  const byReward = params.get('sort') === 'reward';
  const stepSelect = h(
    'select',
    {
      id: 'step',
      'aria-label': 'step',
      onchange: (e: Event) =>
        (location.hash = runHref(
          runId,
          `/steps/${(e.target as HTMLSelectElement).value}${byReward ? '?sort=reward' : ''}`,
        )),
    },
    ...view.rolloutSteps.map((s) => h('option', { value: s, selected: s === step }, `step ${s}`)),
  );
  const sortSelect = h(
    'select',
    {
      id: 'sort',
      'aria-label': 'order',
      onchange: (e: Event) =>
        (location.hash = runHref(
          runId,
          `/steps/${step}${(e.target as HTMLSelectElement).value === 'reward' ? '?sort=reward' : ''}`,
        )),
    },
    h('option', { value: 'index', selected: !byReward }, 'group order'),
    h('option', { value: 'reward', selected: byReward }, 'reward, highest first'),
  );
  show(
    main,
    h('h1', {}, `GRPO step ${step} of `, h('a', { href: runHref(runId) }, runId)),
    h(
      'div',
      { class: 'toolbar' },
      h('label', {}, 'Step ', stepSelect),
      h('label', {}, 'Order ', sortSelect),
      h(
        'span',
        { class: 'muted' },
        `advantages: (reward − group mean) / group std, scaleRewards ${groups.scaleRewards}`,
      ),
    ),
    (groups.rescores ?? []).length > 0
      ? h(
          'p',
          { class: 'muted' },
          `Rescored by ${(groups.rescores ?? []).map((r) => `${r.rewardId}@${r.rewardVersion} (${r.streamId})`).join(', ')}: shown beside the original reward.`,
        )
      : null,
    ...groups.groups.map((group) => {
      const completions = [...group.completions];
      if (byReward)
        completions.sort(
          (a, b) => (b.reward ?? -Infinity) - (a.reward ?? -Infinity) || a.groupIndex - b.groupIndex,
        );
      // Two completions ticked for comparison show as a word diff above the group.
      const chosen: GroupCompletion[] = [];
      const diff = h('div', { class: 'diff-panel', 'aria-live': 'polite' });
      const showDiff = () => {
        if (chosen.length < 2) {
          diff.replaceChildren(
            chosen.length === 1
              ? h(
                  'p',
                  { class: 'muted' },
                  `Tick one more completion to diff it with #${chosen[0].groupIndex}.`,
                )
              : '',
          );
          return;
        }
        const [a, b] = chosen;
        diff.replaceChildren(
          h(
            'h3',
            {},
            `diff #${a.groupIndex} → #${b.groupIndex} (`,
            h('del', {}, 'only in the first'),
            ', ',
            h('ins', {}, 'only in the second'),
            ')',
          ),
          diffElement(a.completion, b.completion),
        );
      };
      const toggle = (c: GroupCompletion, on: boolean) => {
        const at = chosen.indexOf(c);
        if (on && at < 0) chosen.push(c);
        if (!on && at >= 0) chosen.splice(at, 1);
        if (chosen.length > 2) {
          const dropped = chosen.shift()!;
          const box = section.querySelector<HTMLInputElement>(`input[data-diff="${dropped.rolloutId}"]`);
          if (box) box.checked = false;
        }
        showDiff();
      };
      const rescores = groups.rescores ?? [];
      const section = h(
        'section',
        { class: 'group' },
        h(
          'h2',
          {},
          `prompt ${group.promptId}`,
          group.source
            ? h(
                'span',
                { class: 'muted' },
                ` · row ${group.source.rowIndex} of dataset ${group.source.datasetVersion.slice(0, 12)}${group.source.category ? ` · ${group.source.category}` : ''}`,
              )
            : null,
        ),
        h(
          'div',
          { class: 'completions' },
          ...completions.map((c) =>
            h(
              'article',
              { class: 'completion', 'data-rollout': c.rolloutId },
              h(
                'h3',
                {},
                `#${c.groupIndex} `,
                h(
                  'label',
                  { class: 'diff-pick' },
                  h('input', {
                    type: 'checkbox',
                    'data-diff': c.rolloutId,
                    onchange: (e: Event) => toggle(c, (e.target as HTMLInputElement).checked),
                  }),
                  ' diff',
                ),
              ),
              h(
                'dl',
                {},
                h('dt', {}, 'reward'),
                h('dd', { class: 'reward' }, fmt(c.reward)),
                ...rescores.map((r) => [
                  h('dt', {}, `rescore ${r.rewardId}@${r.rewardVersion}`),
                  h('dd', { class: 'rescore' }, fmt(r.totals[c.rolloutId])),
                ]),
                ...c.rewards.flatMap((r) => [
                  ...Object.entries(r.components).map(([name, value]) => [
                    h('dt', {}, `· ${name}`),
                    h('dd', {}, fmt(value)),
                  ]),
                ]),
                h('dt', {}, 'advantage'),
                h('dd', {}, fmt(c.advantage)),
                h('dt', {}, 'tokens'),
                h('dd', {}, c.completionTokens),
                h('dt', {}, 'finish'),
                h('dd', {}, c.finishReason + (c.truncated ? ' (truncated)' : '')),
              ),
              h('pre', { class: 'completion-text' }, c.completion || '(empty)'),
            ),
          ),
        ),
      );
      section.insertBefore(diff, section.children[1]);
      return section;
    }),
  );
}
