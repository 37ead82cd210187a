// Recurring schedules: the list (#/schedules) and one schedule (#/schedules/nightly-report), with their timing, policies,
// last tick and last task, and the buttons to pause, resume and run one now. Ticks make tasks, so the task counts of
// the live stream are the cue to read the schedules again.

import { getJson, send, ApiError } from '../api.js';
import { h, fill, stateBadge, timeElement, formatAge, prettyJson, refresher } from '../util.js';

const API = 'dashboard/api/schedules';
const scheduleUrl = (name, action = '') => `${API}/${encodeURIComponent(name)}${action ? `/${action}` : ''}`;

/** The hash of a schedule's own page (tasks made by a tick link here). */
export const scheduleHash = (name) => `#/schedules/${encodeURIComponent(name)}`;

export function mountSchedules(main, _params, app) {
  const message = h('p', { class: 'message', role: 'status' });
  const body = h('div', { class: 'table-holder' }, h('p', { class: 'muted' }, 'Loading…'));
  fill(main,
    h('div', { class: 'page-head' }, h('h1', {}, 'Schedules')),
    h('p', { class: 'muted small' }, 'Each tick enqueues one task, whichever node fires it. Define schedules through the HTTP API, the configuration or the library.'),
    message,
    h('section', { class: 'panel', 'aria-label': 'Schedules' }, body));

  let last = null;
  async function load() {
    try {
      const { schedules } = await getJson(API);
      const json = JSON.stringify(schedules);
      if (json === last) return;
      last = json;
      fill(body, scheduleTable(schedules, act));
    } catch (error) {
      last = null;
      app.showError(body, error);
    }
  }

  const act = steer(app, message, () => refresh());
  const refresh = refresher(load);
  refresh();
  return { title: 'Schedules', onStats: () => refresh(), dispose: () => refresh.dispose() };
}

export function mountSchedule(main, name, app) {
  const badge = h('span', { class: 'title-badge' });
  const actions = h('div', { class: 'actions' });
  const message = h('p', { class: 'message', role: 'status' });
  const body = h('div', { class: 'schedule-body' }, h('p', { class: 'muted' }, 'Loading…'));
  fill(main,
    h('nav', { class: 'breadcrumbs', 'aria-label': 'Breadcrumbs' }, h('a', { href: '#/schedules' }, 'Schedules'), ' › ', h('span', { 'aria-current': 'page' }, name)),
    h('div', { class: 'page-head' }, h('div', { class: 'title-row' }, h('h1', { id: 'schedule-title' }, `Schedule ${name}`), badge), actions),
    message,
    body);

  let last = null;
  async function load() {
    try {
      const schedule = await getJson(scheduleUrl(name));
      const json = JSON.stringify(schedule);
      if (json === last) return;
      last = json;
      fill(badge, schedule.paused ? h('span', { class: 'tag paused' }, 'paused') : h('span', { class: 'tag' }, 'active'));
      fill(actions, ...buttons(schedule, act));
      fill(body,
        h('section', { class: 'panel', 'aria-labelledby': 'schedule-facts' }, h('h2', { id: 'schedule-facts' }, 'Details'), facts(schedule)),
        h('section', { class: 'panel', 'aria-labelledby': 'schedule-payload' }, h('h2', { id: 'schedule-payload' }, 'Payload of each task'),
          h('pre', { class: 'code', tabindex: 0, 'aria-labelledby': 'schedule-payload' }, prettyJson(schedule.payload ?? {}))));
    } catch (error) {
      last = null;
      if (error instanceof ApiError && error.status === 404) {
        fill(badge);
        fill(actions);
        fill(body, h('p', { class: 'notice' }, error.message), h('p', {}, h('a', { href: '#/schedules' }, 'Back to the schedules')));
      } else {
        app.showError(body, error);
      }
    }
  }

  const act = steer(app, message, () => refresh());
  const refresh = refresher(load);
  refresh();
  return { title: `Schedule ${name}`, onStats: () => refresh(), dispose: () => refresh.dispose() };
}

/** "cron 0 3 * * * (Europe/Paris)" or "every 00:05:00". */
function timing(schedule) {
  return schedule.cron ? `cron ${schedule.cron} (${schedule.timeZone})` : `every ${schedule.every}`;
}

function nextRun(schedule) {
  if (schedule.paused) return h('span', { class: 'muted' }, 'paused');
  if (!schedule.nextRunAt) return h('span', { class: 'muted' }, 'never');
  return h('span', {}, timeElement(schedule.nextRunAt), h('span', { class: 'muted small' }, ` (${formatAge(schedule.nextRunAt)})`));
}

function lastTask(schedule) {
  if (schedule.lastTaskId === null || schedule.lastTaskId === undefined) return h('span', { class: 'muted' }, '—');
  return h('span', { class: 'last-task' }, h('a', { href: `#/tasks/${schedule.lastTaskId}` }, `#${schedule.lastTaskId}`), ' ',
    schedule.lastTaskState ? stateBadge(schedule.lastTaskState) : h('span', { class: 'muted small' }, 'deleted'));
}

function facts(schedule) {
  const rows = [
    ['Timing', timing(schedule)],
    ['Next run', nextRun(schedule)],
    ['Last run', timeElement(schedule.lastRunAt)],
    ['Last task', lastTask(schedule)],
    ['Task type', schedule.type],
    ['Queue', schedule.queue ?? h('span', { class: 'muted' }, "the type's default")],
    ['Overlap', schedule.overlap === 'skip' ? 'skip while the last task is unfinished' : 'allow'],
    ['Misfire', schedule.misfire === 'runOnce' ? 'run once for missed ticks' : 'skip missed ticks'],
    ['Defined', timeElement(schedule.updatedAt)],
  ];
  return h('dl', { class: 'facts' }, rows.map(([term, value]) => h('div', {}, h('dt', {}, term), h('dd', {}, value))));
}

function scheduleTable(schedules, act) {
  if (schedules.length === 0) return h('p', { class: 'muted' }, 'No schedules yet.');
  return h('table', { class: 'data responsive schedules' },
    h('caption', { class: 'visually-hidden' }, 'Schedules by name'),
    h('thead', {}, h('tr', {}, ['Name', 'Timing', 'Type', 'Next run', 'Last run', 'Last task', 'Policies'].map((title) => h('th', { scope: 'col' }, title)),
      h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Actions')))),
    h('tbody', {}, schedules.map((schedule) => h('tr', { dataset: { schedule: schedule.name, paused: String(schedule.paused) } },
      h('th', { scope: 'row', 'data-label': 'Name' }, h('a', { href: scheduleHash(schedule.name) }, schedule.name),
        schedule.paused ? h('span', { class: 'tag paused' }, 'paused') : null),
      h('td', { 'data-label': 'Timing' }, timing(schedule)),
      h('td', { 'data-label': 'Type' }, schedule.type),
      h('td', { 'data-label': 'Next run' }, nextRun(schedule)),
      h('td', { 'data-label': 'Last run' }, timeElement(schedule.lastRunAt)),
      h('td', { 'data-label': 'Last task' }, lastTask(schedule)),
      h('td', { 'data-label': 'Policies', class: 'small' }, `overlap ${schedule.overlap} · misfire ${schedule.misfire}`),
      h('td', { class: 'row-actions' }, buttons(schedule, act, { compact: true }))))));
}

/** Pause or Resume, and Run now. While a request is out its button says so; a failure brings the button back. */
function buttons(schedule, act, { compact = false } = {}) {
  const make = (label, busy, action, className) => {
    const button = h('button', {
      type: 'button',
      class: className,
      'aria-label': compact ? `${label} schedule ${schedule.name}` : null,
      onclick: async () => {
        button.disabled = true;
        button.textContent = busy;
        if (!await act(schedule.name, action)) {
          button.disabled = false;
          button.textContent = label;
        }
      },
    }, label);
    return button;
  };
  return [
    schedule.paused ? make('Resume', 'Resuming…', 'resume', 'secondary') : make('Pause', 'Pausing…', 'pause', 'quiet'),
    make('Run now', 'Starting…', 'trigger', 'secondary'),
  ];
}

/** Sends one action; says what happened (with a link to the task a run made) and refreshes. Resolves to success. */
function steer(app, message, refresh) {
  return async (name, action) => {
    try {
      const { data } = await send('POST', scheduleUrl(name, action));
      const text = action === 'trigger' ? `Schedule ${name} ran now: task #${data.id}.`
        : action === 'pause' ? `Schedule ${name} paused: no tick makes a task until it is resumed.`
          : `Schedule ${name} resumed.`;
      fill(message, text, action === 'trigger' ? [' ', h('a', { href: `#/tasks/${data.id}` }, 'Open the task')] : null);
      message.className = 'message ok';
      app.announce(text);
      refresh();
      return true;
    } catch (error) {
      const text = error instanceof ApiError ? error.message : `Schedule ${name} could not be changed: ${error.message}`;
      fill(message, text);
      message.className = 'message error';
      app.announce(text);
      return false;
    }
  };
}
