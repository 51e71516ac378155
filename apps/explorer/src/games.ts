import { getJson } from './api';
import { fmt, h, show } from './dom';
import type { MatchPage, MatchReplay, MatchSummary, ReplayedMove } from './types';

const runPath = (runId: string) => `/runs/${encodeURIComponent(runId)}`;
const gamesHref = (runId: string, rest = '') => `#/runs/${encodeURIComponent(runId)}/games${rest}`;
const PAGE = 50;
const FILTERS = ['game', 'stage', 'opponent', 'outcome'] as const;

/** The outcome in words, as the report says it: NE or not (and PO), win/loss/draw, abnormal, invalid. */
export function outcomeText(
  m: Pick<MatchSummary, 'outcome' | 'paretoOptimalEquilibrium' | 'status'>,
): string {
  const words: Record<string, string> = {
    equilibrium: 'Nash equilibrium',
    'non-equilibrium': 'not an equilibrium',
    invalid: 'invalid (no legal answer)',
  };
  const text = words[m.outcome] ?? m.outcome;
  const po =
    m.paretoOptimalEquilibrium === null
      ? ''
      : m.paretoOptimalEquilibrium
        ? ', Pareto-optimal'
        : ', not Pareto-optimal';
  return `${text}${po}${m.status === 'abnormal' && m.outcome !== 'abnormal' ? ' (abnormal end)' : ''}`;
}

/** The run's matches and trials, filtered by game, stage, opponent and outcome, paged on the server. */
export async function gamesView(
  main: HTMLElement,
  runId: string,
  params: URLSearchParams,
  signal: AbortSignal,
): Promise<void> {
  const offset = Number(params.get('offset') ?? '0') || 0;
  const query = new URLSearchParams({ offset: String(offset), limit: String(PAGE) });
  for (const f of FILTERS) if (params.get(f)) query.set(f, params.get(f)!);
  const { body: page } = await getJson<MatchPage>(`${runPath(runId)}/matches?${query}`, signal);
  const go = (changes: Record<string, string>) => {
    const next = new URLSearchParams(query);
    next.delete('limit');
    for (const [k, v] of Object.entries(changes)) {
      if (v) next.set(k, v);
      else next.delete(k);
    }
    if (next.get('offset') === '0') next.delete('offset');
    location.hash = gamesHref(runId, `?${next}`);
  };
  const selects = FILTERS.map((f) =>
    h(
      'select',
      {
        id: `filter-${f}`,
        'aria-label': f,
        onchange: (e: Event) => go({ [f]: (e.target as HTMLSelectElement).value, offset: '0' }),
      },
      h('option', { value: '' }, `any ${f}`),
      ...page.facets[f].map((v) => h('option', { value: v, selected: params.get(f) === v }, v)),
    ),
  );
  const last = Math.min(page.total, offset + page.matches.length);
  show(
    main,
    h('h1', {}, 'Game replays of ', h('a', { href: `#${runPath(runId)}` }, runId)),
    h(
      'div',
      { class: 'toolbar' },
      ...FILTERS.map((f, i) => h('label', {}, `${f[0].toUpperCase()}${f.slice(1)} `, selects[i])),
    ),
    h(
      'p',
      { class: 'pager' },
      offset > 0
        ? h(
            'button',
            { type: 'button', onclick: () => go({ offset: String(Math.max(0, offset - PAGE)) }) },
            '← previous',
          )
        : null,
      ` matches ${page.total === 0 ? 0 : offset + 1}–${last} of ${page.total} `,
      last < page.total
        ? h(
            'button',
            { type: 'button', id: 'next-matches', onclick: () => go({ offset: String(offset + PAGE) }) },
            'next →',
          )
        : null,
    ),
    page.matches.length === 0
      ? h(
          'p',
          {},
          page.total === 0 && page.facets.game.length === 0
            ? 'This run played no games.'
            : 'No match matches the filter.',
        )
      : h(
          'div',
          { class: 'table-scroll' },
          h(
            'table',
            { class: 'matches' },
            h(
              'thead',
              {},
              h(
                'tr',
                {},
                ...[
                  'match',
                  'game',
                  'stage',
                  'opponent',
                  'agent seat',
                  'outcome',
                  'returns',
                  'invalid',
                  'moves',
                ].map((c) => h('th', { scope: 'col' }, c)),
              ),
            ),
            h(
              'tbody',
              {},
              ...page.matches.map((m) =>
                h(
                  'tr',
                  { 'data-match': m.matchId },
                  h(
                    'td',
                    {},
                    h(
                      'a',
                      { href: gamesHref(runId, `/${encodeURIComponent(m.matchId)}`) },
                      m.matchId.split('/').slice(-3).join('/'),
                    ),
                  ),
                  h('td', {}, m.game),
                  h('td', {}, m.stage),
                  h('td', {}, m.opponent),
                  h('td', { class: 'num' }, m.agentSeat < 0 ? 'both (self-play)' : m.agentSeat),
                  h('td', {}, h('span', { class: `outcome ${m.outcome}` }, outcomeText(m))),
                  h('td', { class: 'num' }, m.returns.map((r) => fmt(r, 2)).join(', ')),
                  h('td', { class: 'num' }, m.invalidCount),
                  h('td', { class: 'num' }, m.moves),
                ),
              ),
            ),
          ),
        ),
  );
}

function who(move: ReplayedMove, agentSeat: number): string {
  if (move.actor === 'chance') return 'chance';
  const seat = agentSeat < 0 ? (move.seat === 0 ? 'Alice' : 'Bob') : `seat ${move.seat}`;
  return `${move.actor} (${seat})`;
}

/** One match move by move: the prompt each player saw, the raw reply, the parsed move or why it was invalid, the state after. */
export async function matchView(
  main: HTMLElement,
  runId: string,
  matchId: string,
  signal: AbortSignal,
): Promise<void> {
  const { body: replay } = await getJson<MatchReplay>(
    `${runPath(runId)}/matches/${encodeURIComponent(matchId)}`,
    signal,
  );
  const s = replay.summary;
  show(
    main,
    h('h1', {}, `${s.game}: `, h('span', { class: `outcome ${s.outcome}` }, outcomeText(s))),
    h(
      'p',
      { class: 'meta' },
      h('a', { href: gamesHref(runId) }, '← all matches'),
      ` · ${s.matchId} · stage ${s.stage} · opponent ${s.opponent} · agent seat ${s.agentSeat < 0 ? 'both (self-play)' : s.agentSeat} · returns ${s.returns.join(', ')} · ${s.invalidCount} invalid, ${s.retries} re-asked · policy ${String(replay.finished.invalidPolicy)}`,
    ),
    h(
      'p',
      { class: replay.check.matches ? 'ok' : 'failure', id: 'replay-check' },
      replay.check.matches
        ? `Replayed from the moves alone: the same outcome (${replay.check.recomputedOutcome}).`
        : replay.check.problem
          ? `The moves do not replay: ${replay.check.problem}`
          : `Replayed from the moves alone, the outcome is ${replay.check.recomputedOutcome}, not the recorded ${s.outcome}.`,
    ),
    replay.payoffs
      ? h('section', {}, h('h2', {}, 'Payoffs'), h('pre', { class: 'payoffs' }, replay.payoffs))
      : null,
    h(
      'ol',
      { class: 'moves' },
      ...replay.moves.map((m) =>
        h(
          'li',
          { class: m.legal ? 'move' : 'move invalid', 'data-ply': m.ply },
          h(
            'h3',
            {},
            `ply ${m.ply}${m.attempt > 0 ? `, attempt ${m.attempt + 1}` : ''} · ${who(m, s.agentSeat)} · `,
            m.legal
              ? h('span', { class: 'parsed' }, `move ${m.parsedMove ?? m.action}`)
              : h('span', { class: 'invalid-reason' }, `INVALID: ${m.invalidReason ?? 'not a legal move'}`),
            h('span', { class: 'muted' }, ` · event #${m.position}`),
          ),
          m.observation !== null
            ? h(
                'details',
                {},
                h('summary', {}, 'prompt the player saw'),
                h('pre', { class: 'prompt' }, m.observation),
              )
            : null,
          m.rawText !== null
            ? [
                h('div', { class: 'label' }, 'raw reply'),
                h('pre', { class: 'reply' }, m.rawText || '(empty)'),
              ]
            : null,
          m.stateAfter !== null
            ? [
                h(
                  'div',
                  { class: 'label' },
                  `state after${m.returnsAfter ? ` · returns ${m.returnsAfter.map((r) => fmt(r, 2)).join(', ')}` : ''}`,
                ),
                h('pre', { class: 'state' }, m.stateAfter),
              ]
            : null,
        ),
      ),
    ),
  );
}
