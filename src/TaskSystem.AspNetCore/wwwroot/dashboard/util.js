// Small helpers shared by the views: DOM building (text nodes only, never HTML strings: payloads and errors are
// user data), formatting, and a refresher that coalesces bursts of change events into few requests.

export const STATES = ['awaiting', 'queued', 'scheduled', 'running', 'succeeded', 'failed', 'cancelled'];
export const FINAL_STATES = new Set(['succeeded', 'failed', 'cancelled']);

/** Builds an element: h('a', { href: '#/', class: 'x', onclick: fn }, 'text', child, [more]). */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') {
      element.addEventListener(name.slice(2), value);
    } else if (name === 'class') {
      element.className = value;
    } else if (name === 'dataset') {
      Object.assign(element.dataset, value);
    } else {
      element.setAttribute(name, value === true ? '' : String(value));
    }
  }
  append(element, children);
  return element;
}

/** Replaces an element's children; arrays (nested or not) are flattened, null and false skipped. */
export function fill(element, ...children) {
  element.replaceChildren();
  append(element, children);
  return element;
}

function append(parent, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) append(parent, child);
    else parent.append(child instanceof Node ? child : String(child));
  }
}

const SVG = 'http://www.w3.org/2000/svg';

/** Builds an SVG element; attributes as in h(). */
export function s(tag, attributes = {}, ...children) {
  const element = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value !== undefined && value !== null) element.setAttribute(name, String(value));
  }
  append(element, children);
  return element;
}

export function stateBadge(state) {
  return h('span', { class: `badge state-${state}` }, state);
}

const numberFormat = new Intl.NumberFormat();
/**
 * A running task's progress as its handler last reported it: a native <progress> bar (read out by screen readers)
 * and its percentage and message as text. Null when it reported none.
 */
export function progressBar(progress, { compact = false } = {}) {
  if (!progress) return null;
  const percent = Math.max(0, Math.min(100, Number(progress.percent) || 0));
  const label = `${Math.round(percent * 10) / 10}%`;
  return h('div', { class: compact ? 'progress compact' : 'progress', dataset: { percent: String(percent) } },
    h('progress', { max: 100, value: percent, 'aria-label': `Progress ${label}` }),
    h('span', { class: 'progress-text' }, label, progress.message ? ` · ${progress.message}` : ''));
}

export const formatNumber = (value) => numberFormat.format(value ?? 0);

/** A time as the reader's local clock shows it: the time alone when it is today. */
export function formatTime(iso) {
  if (!iso) return '—';
  const date = new Date(iso);
  const today = new Date();
  const sameDay = date.toDateString() === today.toDateString();
  return sameDay
    ? date.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' })
    : date.toLocaleString(undefined, { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

/** A <time> element: the local time, with the exact instant in its title. */
export function timeElement(iso) {
  if (!iso) return h('span', { class: 'muted' }, '—');
  return h('time', { datetime: iso, title: new Date(iso).toString() }, formatTime(iso));
}

/** "850 ms", "3.2 s", "4 min 05 s", "2 h 03 min". */
export function formatDuration(ms) {
  if (ms === null || ms === undefined || Number.isNaN(ms)) return '—';
  if (ms < 0) ms = 0;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const seconds = ms / 1000;
  if (seconds < 60) return `${seconds < 10 ? seconds.toFixed(1) : Math.round(seconds)} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${String(Math.floor(seconds % 60)).padStart(2, '0')} s`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h ${String(minutes % 60).padStart(2, '0')} min`;
  return `${Math.floor(hours / 24)} d ${hours % 24} h`;
}

/** "12 s ago" for a time in the past, "in 3 min" for one in the future. */
export function formatAge(iso, now = Date.now()) {
  if (!iso) return '—';
  const delta = now - new Date(iso).getTime();
  if (Math.abs(delta) > 7 * 24 * 3600 * 1000) return `${delta >= 0 ? '' : 'on '}${formatTime(iso)}`;
  return delta >= 0 ? `${formatDuration(delta)} ago` : `in ${formatDuration(-delta)}`;
}

/** "running for 3.2 s", kept current by tickClocks() once a second without asking the server anything. */
export function runningFor(startedAt, prefix = 'running for ') {
  const element = h('span', { class: 'clock', dataset: { since: startedAt, prefix } });
  element.textContent = `${prefix}${formatDuration(Date.now() - Date.parse(startedAt))}`;
  return element;
}

export function tickClocks() {
  const now = Date.now();
  for (const element of document.querySelectorAll('.clock[data-since]')) {
    element.textContent = `${element.dataset.prefix}${formatDuration(now - Date.parse(element.dataset.since))}`;
  }
}

/** What the timing column says about a task. */
export function describeTiming(task, now = Date.now()) {
  if (task.state === 'running' && task.startedAt) return runningFor(task.startedAt);
  if (task.state === 'scheduled') return `due ${formatAge(task.runAt, now)}`;
  if (task.finishedAt && task.startedAt && task.state !== 'cancelled') {
    return `${task.state} in ${formatDuration(Date.parse(task.finishedAt) - Date.parse(task.startedAt))}`;
  }
  if (task.finishedAt) return `${task.state} ${formatAge(task.finishedAt, now)}`;
  return `waiting for ${formatDuration(now - Date.parse(task.createdAt))}`;
}

export function prettyJson(value) {
  return JSON.stringify(value, null, 2);
}

/**
 * Runs load() when asked, never two at once and at most once per minGap ms: a burst of change events becomes one
 * request now and at most one more when it ends.
 */
export function refresher(load, minGap = 300) {
  let running = false;
  let again = false;
  let last = -Infinity;
  let timer = 0;
  let disposed = false;
  const run = async () => {
    if (disposed) return;
    if (running) {
      again = true;
      return;
    }
    const wait = last + minGap - performance.now();
    if (wait > 0) {
      if (!timer) timer = setTimeout(() => { timer = 0; run(); }, wait);
      return;
    }
    running = true;
    last = performance.now();
    try {
      await load();
    } catch (error) {
      console.warn('refresh failed', error);
    } finally {
      running = false;
      if (again) {
        again = false;
        run();
      }
    }
  };
  run.dispose = () => {
    disposed = true;
    clearTimeout(timer);
  };
  return run;
}

/** Parses "#/tasks/12?state=failed" into { path: ['tasks', '12'], params: URLSearchParams }. */
export function parseHash(hash = location.hash) {
  const raw = hash.replace(/^#/, '');
  const [path, query = ''] = raw.split('?');
  return { path: path.split('/').filter(Boolean).map(decodeURIComponent), params: new URLSearchParams(query) };
}

export function hashFor(path, params = {}) {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== '') query.set(key, value);
  }
  const text = query.toString();
  return `#${path}${text ? `?${text}` : ''}`;
}
