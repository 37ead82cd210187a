// The dashboard's shell: hash routes (#/, #/tasks, #/tasks/42, #/schedules, #/schedules/name, #/new), the live stream, the connection status,
// the theme toggle and the API key. Views get the latest figures and are told when something changed.

import { ApiError, getJson, forgetKey, onKeyChange, requestKey, storedKey } from './api.js';
import { connectEvents } from './events.js';
import { h, fill, parseHash, tickClocks } from './util.js';
import { mountOverview } from './views/overview.js';
import { mountTasks } from './views/tasks.js';
import { mountTask } from './views/task.js';
import { mountEnqueue } from './views/enqueue.js';
import { mountSchedules, mountSchedule } from './views/schedules.js';

const main = document.getElementById('main');
const announcer = document.getElementById('announcer');
const connection = document.getElementById('connection');

let handlersPromise = null;
let view = null;
let firstRoute = true;

const app = {
  stats: null,
  overview: null,
  status: 'connecting',
  navigate(hash) {
    if (location.hash === hash) route();
    else location.hash = hash;
  },
  announce(text) {
    // Cleared first so that the same message twice is read twice.
    announcer.textContent = '';
    setTimeout(() => { announcer.textContent = text; }, 50);
  },
  /** The registered task types and defaults, fetched once. */
  handlers() {
    handlersPromise ??= getJson('dashboard/api/handlers').catch((error) => {
      handlersPromise = null;
      throw error;
    });
    return handlersPromise;
  },
  /** Shows a failed request in place of content: the server's own message, and a way to give a key if that was it. */
  showError(container, error) {
    const locked = error instanceof ApiError && error.status === 401;
    fill(container, h('div', { class: 'notice error', role: 'alert' },
      h('p', {}, locked ? 'This server needs an API key: nothing is shown without one.' : error.message),
      locked ? h('button', { type: 'button', class: 'primary', onclick: () => requestKey().then(() => route(), () => {}) }, 'Enter an API key') : null));
  },
};

function route() {
  const { path, params } = parseHash();
  view?.dispose?.();
  let name;
  if (path.length === 0) {
    name = 'overview';
    view = mountOverview(main, params, app);
  } else if (path[0] === 'tasks' && path.length === 1) {
    name = 'tasks';
    view = mountTasks(main, params, app);
  } else if (path[0] === 'tasks' && path.length === 2) {
    name = 'tasks';
    view = mountTask(main, path[1], app);
  } else if (path[0] === 'schedules' && path.length === 1) {
    name = 'schedules';
    view = mountSchedules(main, params, app);
  } else if (path[0] === 'schedules' && path.length === 2) {
    name = 'schedules';
    view = mountSchedule(main, path[1], app);
  } else if (path[0] === 'new') {
    name = 'new';
    view = mountEnqueue(main, params, app);
  } else {
    name = null;
    fill(main, h('h1', {}, 'Not found'), h('p', {}, 'Nothing is here. ', h('a', { href: '#/' }, 'Go to the overview.')));
    view = { title: 'Not found' };
  }
  document.title = `${view.title} · TaskSystem`;
  for (const link of document.querySelectorAll('[data-nav]')) {
    if (link.dataset.nav === name) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  // After a navigation, keyboard and screen-reader users start at the new content, as after a page load.
  if (!firstRoute) main.focus();
  firstRoute = false;
}

const STATUS_TEXT = {
  connecting: 'Connecting…',
  live: 'Live',
  reconnecting: 'Reconnecting…',
  locked: 'API key needed',
};

function setStatus(state) {
  app.status = state;
  view?.onStatus?.(state);
  connection.dataset.state = state;
  connection.textContent = STATUS_TEXT[state] ?? state;
  connection.title = state === 'live' ? 'Changes appear as they happen.' : 'Changes are not shown until the connection is back.';
}

function onEvent({ event, data }) {
  if (event === 'stats') {
    app.stats = data;
    view?.onStats?.(data);
  } else if (event === 'overview') {
    // An overview can be older than the latest stats (it is read less often): keep the fresher counts.
    app.overview = data;
    if (!app.stats || Date.parse(data.time) >= Date.parse(app.stats.time)) app.stats = data;
    view?.onOverview?.(data);
  } else if (event === 'progress') {
    app.progress = data;
    view?.onProgress?.(data);
  }
}

function setUpTheme() {
  const toggle = document.getElementById('theme-toggle');
  const system = matchMedia('(prefers-color-scheme: dark)');
  const current = () => document.documentElement.dataset.theme ?? (system.matches ? 'dark' : 'light');
  const render = () => {
    const next = current() === 'dark' ? 'light' : 'dark';
    toggle.textContent = next === 'dark' ? 'Dark theme' : 'Light theme';
    toggle.setAttribute('aria-label', `Switch to the ${next} theme`);
  };
  toggle.addEventListener('click', () => {
    const next = current() === 'dark' ? 'light' : 'dark';
    document.documentElement.dataset.theme = next;
    try {
      localStorage.setItem('tasksystem.theme', next);
    } catch {
      // Not kept: it still applies to this page.
    }
    render();
  });
  system.addEventListener('change', render);
  render();
}

function setUpKey() {
  const forget = document.getElementById('forget-key');
  const render = (key) => { forget.hidden = !key; };
  forget.addEventListener('click', () => {
    forgetKey();
    app.announce('The API key is forgotten.');
    location.reload();
  });
  onKeyChange(render);
  render(storedKey());
}

setUpTheme();
setUpKey();
window.addEventListener('hashchange', route);
route();
setInterval(tickClocks, 1000);
const stream = connectEvents({ onEvent, onStatus: setStatus });
window.addEventListener('online', () => stream.reconnectNow());
