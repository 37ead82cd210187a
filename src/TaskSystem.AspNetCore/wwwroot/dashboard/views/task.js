// One task: its state and actions, its fields and timestamps, payload, result or error, and every attempt.
// Refreshed live while the stream reports changes.

import { getJson, tasksUrl, ApiError } from '../api.js';
import { actionButtons } from '../actions.js';
import { scheduleHash } from './schedules.js';
import { h, fill, stateBadge, timeElement, formatDuration, prettyJson, refresher, runningFor, FINAL_STATES, progressBar } from '../util.js';

export function mountTask(main, id, app) {
  const heading = h('h1', { id: 'task-title' }, `Task #${id}`);
  const badge = h('span', { class: 'title-badge' });
  const actions = h('div', { class: 'actions' });
  const message = h('p', { class: 'message', role: 'status' });
  const body = h('div', { class: 'task-body' }, h('p', { class: 'muted' }, 'Loading…'));

  fill(main,
    h('nav', { class: 'breadcrumbs', 'aria-label': 'Breadcrumbs' }, h('a', { href: '#/tasks' }, 'Tasks'), ' › ', h('span', { 'aria-current': 'page' }, `#${id}`)),
    h('div', { class: 'page-head' }, h('div', { class: 'title-row' }, heading, badge), actions),
    message,
    body);

  let last = null;
  async function load() {
    try {
      const task = await getJson(tasksUrl(`/${encodeURIComponent(id)}`));
      render(task);
    } catch (error) {
      last = null; // The body now shows the error: the next good answer redraws it even if the task is unchanged.
      if (error instanceof ApiError && error.status === 404) {
        fill(badge);
        fill(actions);
        fill(body, h('p', { class: 'notice' }, error.message), h('p', {}, h('a', { href: '#/tasks' }, 'Back to the task list')));
      } else {
        app.showError(body, error);
      }
    }
  }

  function render(task) {
    const json = JSON.stringify(task);
    if (json === last) return;
    last = json;
    fill(badge, stateBadge(task.state));
    fill(actions, ...actionButtons(task, done));
    fill(body,
      h('section', { class: 'panel', 'aria-labelledby': 'facts-title' }, h('h2', { id: 'facts-title' }, 'Details'), facts(task)),
      h('div', { class: 'columns' },
        h('section', { class: 'panel', 'aria-labelledby': 'payload-title' }, h('h2', { id: 'payload-title' }, 'Payload'), code(task.payload, 'payload-title')),
        outcome(task)),
      h('section', { class: 'panel', 'aria-labelledby': 'attempts-title' }, h('h2', { id: 'attempts-title' }, 'Attempts'), attempts(task)));
  }

  function done(result) {
    message.textContent = result.message;
    message.className = result.ok ? 'message ok' : 'message error';
    app.announce(result.message);
    refresh();
  }

  const refresh = refresher(load);
  refresh();
  return {
    title: `Task #${id}`,
    onStats: () => refresh(),
    onProgress(progress) {
      if (progress.tasks.some((task) => String(task.id) === String(id))) refresh();
    },
    dispose: () => refresh.dispose(),
  };
}

function facts(task) {
  const ran = task.startedAt && task.finishedAt ? Date.parse(task.finishedAt) - Date.parse(task.startedAt) : null;
  const rows = [
    ['Type', task.type],
    ['Queue', task.queue],
    ['Priority', String(task.priority)],
    ['Attempt', `${task.attempt} of ${task.maxAttempts}`],
    ['Timeout per attempt', formatDuration(task.timeoutSeconds * 1000)],
    ['Node', task.node ?? '—'],
    ['Created', timeElement(task.createdAt)],
    ['Runs at', timeElement(task.runAt)],
    ['Started', timeElement(task.startedAt)],
    ['Finished', timeElement(task.finishedAt)],
    task.state === 'running' && task.startedAt
      ? ['Running for', runningFor(task.startedAt, '')]
      : ['Last attempt took', ran === null ? '—' : formatDuration(ran)],
  ];
  if (task.progress) {
    const when = task.progress.attempt === task.attempt ? '' : ` (attempt ${task.progress.attempt})`;
    rows.push([`Progress${when}`, h('div', {}, progressBar(task.progress), h('span', { class: 'muted small' }, 'reported ', timeElement(task.progress.at)))]);
  }
  if (task.schedule) {
    rows.push(['Made by schedule', h('span', {}, h('a', { href: scheduleHash(task.schedule), class: 'schedule-link' }, task.schedule),
      h('span', { class: 'muted small' }, ' for the tick of '), timeElement(task.scheduledFor))]);
  }
  if (task.stopRequested) rows.push(['Stop requested', 'yes: the handler has been asked to stop']);
  return h('dl', { class: 'facts' }, rows.map(([term, value]) => h('div', {}, h('dt', {}, term), h('dd', {}, value))));
}

function outcome(task) {
  if (task.result !== null && task.result !== undefined) {
    return h('section', { class: 'panel', 'aria-labelledby': 'result-title' }, h('h2', { id: 'result-title' }, 'Result'), code(task.result, 'result-title'));
  }
  if (task.error) {
    return h('section', { class: 'panel', 'aria-labelledby': 'error-title' }, h('h2', { id: 'error-title' }, task.state === 'cancelled' ? 'Why it stopped' : 'Error'),
      h('pre', { class: 'code error-text', tabindex: 0, 'aria-labelledby': 'error-title' }, task.error));
  }
  const waiting = FINAL_STATES.has(task.state) ? 'No result.' : 'No result yet.';
  return h('section', { class: 'panel', 'aria-labelledby': 'result-title' }, h('h2', { id: 'result-title' }, 'Result'), h('p', { class: 'muted' }, waiting));
}

/** Scrollable code blocks are focusable so a keyboard can scroll them. */
function code(value, labelledBy) {
  return h('pre', { class: 'code', tabindex: 0, 'aria-labelledby': labelledBy }, prettyJson(value));
}

/** A failed attempt's message, and its stack trace (as the server kept it, at most 8 KiB) folded under it. */
function failure(error) {
  if (!error.stackTrace) return error.error;
  return h('div', {}, h('span', {}, error.error),
    h('details', { class: 'stack-trace' }, h('summary', {}, 'Stack trace'), h('pre', { class: 'code', tabindex: 0 }, error.stackTrace)));
}

/**
 * Every attempt, latest first: the failed ones from the task's error history (kept across retries, so attempt
 * numbers can repeat), then the current one from its state, or when the next one is due.
 */
function attempts(task) {
  const rows = task.errors.map((error) => [String(error.attempt), h('span', { class: 'badge state-failed' }, 'failed'), timeElement(error.at), failure(error)]);
  if (task.state === 'running') {
    rows.push([String(task.attempt), stateBadge('running'), h('span', {}, 'started ', timeElement(task.startedAt)), '']);
  } else if (task.state === 'succeeded') {
    rows.push([String(task.attempt), stateBadge('succeeded'), timeElement(task.finishedAt), '']);
  } else if (task.state === 'cancelled') {
    rows.push([task.attempt > 0 ? String(task.attempt) : '—', stateBadge('cancelled'), timeElement(task.finishedAt), task.error ?? '']);
  } else if (task.state === 'awaiting') {
    rows.push([String(task.attempt + 1), stateBadge('awaiting'), h('span', {}, 'after tasks ', (task.after ?? []).join(', ') || '—'), '']);
  } else if (task.state === 'queued' || task.state === 'scheduled') {
    rows.push([String(task.attempt + 1), stateBadge(task.state), h('span', {}, 'due ', timeElement(task.runAt)), '']);
  }
  if (rows.length === 0) return h('p', { class: 'muted' }, 'Not started yet.');
  rows.reverse();
  return h('table', { class: 'data responsive attempts' },
    h('caption', { class: 'visually-hidden' }, 'Attempts, latest first'),
    h('thead', {}, h('tr', {}, ['Attempt', 'Outcome', 'When', 'Error'].map((name) => h('th', { scope: 'col' }, name)))),
    h('tbody', {}, rows.map(([attempt, outcomeCell, when, error]) => h('tr', {},
      h('td', { 'data-label': 'Attempt' }, attempt),
      h('td', { 'data-label': 'Outcome' }, outcomeCell),
      h('td', { 'data-label': 'When' }, when),
      h('td', { 'data-label': 'Error', class: 'error-text' }, error || h('span', { class: 'muted' }, '—'))))));
}
