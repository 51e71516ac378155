import { ApiError, getJson, token } from './api';
import { h } from './dom';
import { auditView } from './audit';
import { compareView } from './compare';
import { gamesView, matchView } from './games';
import type { RunView } from './types';
import { eventsView, groupsView, renderRunPage, runsView, runView, type RunStatus } from './views';

const main = document.getElementById('main') as HTMLElement;
const nav = document.getElementById('nav') as HTMLElement;
let current = new AbortController();

/** The token form: the token is checked against /runs, then kept for this tab only (sessionStorage). */
function loginView(message?: string): void {
  const input = h('input', {
    type: 'password',
    id: 'token',
    autocomplete: 'off',
    required: true,
    'aria-describedby': 'token-help',
  });
  const error = h('p', { class: 'failure', role: 'alert' }, message ?? '');
  main.replaceChildren(
    h('h1', {}, 'Sign in'),
    h(
      'form',
      {
        class: 'login',
        onsubmit: async (event: Event) => {
          event.preventDefault();
          token.set(input.value.trim());
          try {
            await getJson('/runs');
            if (!location.hash || location.hash === '#/login') location.hash = '#/runs';
            else void route();
          } catch (e) {
            token.clear();
            error.textContent = e instanceof Error ? e.message : String(e);
          }
        },
      },
      h('label', { for: 'token' }, 'API token'),
      input,
      h(
        'p',
        { id: 'token-help', class: 'muted' },
        'A viewer token from `recon token create`, or the local admin token file `recon api` names. It is kept in this tab only and sent as an Authorization header.',
      ),
      h('button', { type: 'submit' }, 'Sign in'),
      error,
    ),
  );
  input.focus();
}

function renderNav(): void {
  nav.replaceChildren(
    ...(token.get()
      ? [
          h('a', { href: '#/runs' }, 'Runs'),
          h(
            'button',
            {
              type: 'button',
              class: 'link',
              onclick: () => {
                token.clear();
                loginView();
                renderNav();
              },
            },
            'Sign out',
          ),
        ]
      : []),
  );
}

async function route(): Promise<void> {
  current.abort();
  current = new AbortController();
  const signal = current.signal;
  renderNav();
  if (!token.get()) return loginView();
  const [path, query = ''] = location.hash.replace(/^#/, '').split('?');
  const params = new URLSearchParams(query);
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  main.replaceChildren(h('p', { role: 'status' }, 'Loading…'));
  try {
    if (parts[0] === 'compare') await compareView(main, params, signal);
    else if (parts[0] === 'runs' && parts[1] && parts[2] === 'games' && parts[3])
      await matchView(main, parts[1], parts.slice(3).join('/'), signal);
    else if (parts[0] === 'runs' && parts[1] && parts[2] === 'games')
      await gamesView(main, parts[1], params, signal);
    else if (parts[0] === 'runs' && parts[1] && parts[2] === 'audit') await auditView(main, parts[1], signal);
    else if (parts[0] === 'runs' && parts[1] && parts[2] === 'events')
      await eventsView(main, parts[1], params, signal);
    else if (parts[0] === 'runs' && parts[1] && parts[2] === 'steps' && parts[3])
      await groupsView(main, parts[1], Number(parts[3]), params, signal);
    else if (parts[0] === 'runs' && parts[1]) await runView(main, parts[1], signal);
    else runsView(main, signal);
    main.focus({ preventScroll: true });
  } catch (error) {
    if (signal.aborted) return;
    if (error instanceof ApiError && error.status === 401) {
      token.clear();
      renderNav();
      return loginView(error.message);
    }
    main.replaceChildren(
      h('h1', {}, 'Cannot show this'),
      h('p', { class: 'failure', role: 'alert' }, error instanceof Error ? error.message : String(error)),
    );
  }
}

/** `recon report --html` embeds the run page's data in the file: render it, with no server and no sign-in. */
const embedded = document.getElementById('run-data');
if (embedded) {
  const { view, run } = JSON.parse(embedded.textContent ?? '{}') as { view: RunView; run: RunStatus };
  renderRunPage(main, view, run, true);
} else {
  window.addEventListener('hashchange', () => void route());
  void route();
}
