// The task list: filter by state, type and queue; find by id; newest first; cursor paging (fast at any size);
// refreshed live when the stream says something changed, without losing the page or the filters.

import { getJson, send, tasksUrl, ApiError } from '../api.js';
import { actionButtons } from '../actions.js';
import { scheduleHash } from './schedules.js';
import { h, fill, STATES, formatNumber, hashFor, stateBadge, timeElement, describeTiming, refresher, progressBar } from '../util.js';

const PAGE_SIZE = 50;

/** cursor → the cursor of the page before it, as the person paged this session (for "Newer"). */
const previousCursors = new Map();

export function mountTasks(main, params, app) {
  const filter = {
    state: params.get('state') || 'all',
    type: params.get('type') || '',
    queue: params.get('queue') || '',
    cursor: params.get('cursor') || '',
  };
  const link = (changes) => hashFor('/tasks', { ...filter, cursor: '', ...changes });

  const stateNav = h('ul', { class: 'chips' });
  const summary = h('p', { class: 'summary', 'aria-live': 'polite' }, 'Loading…');
  const message = h('p', { class: 'message', role: 'status' });
  const results = h('div', { class: 'table-holder' });

  // Selection for bulk actions: ids picked on this page, kept across live refreshes while they stay shown.
  const selected = new Set();
  const selectionText = h('span', { class: 'muted small', 'aria-live': 'polite' });
  const bulkButton = (label, action, className) => h('button', {
    type: 'button', class: className, disabled: true, dataset: { action },
    onclick: () => runBulk(label, action),
  }, label);
  const bulkButtons = [bulkButton('Stop selected', 'stop', 'danger'), bulkButton('Retry selected', 'retry', 'secondary'), bulkButton('Delete selected', 'delete', 'quiet')];
  const bulkBar = h('div', { class: 'bulk-bar', role: 'toolbar', 'aria-label': 'Actions on the selected tasks' }, selectionText, ...bulkButtons);

  function renderSelection() {
    selectionText.textContent = selected.size ? `${selected.size} selected` : 'Select tasks to stop, retry or delete them together.';
    for (const button of bulkButtons) button.disabled = selected.size === 0;
  }

  async function runBulk(label, action) {
    const ids = [...selected];
    const what = { stop: 'Stop', retry: 'Retry', delete: 'Delete' }[action];
    const rule = { stop: 'finished ones are left as they are', retry: 'only failed and cancelled ones go back to the queue', delete: 'only finished ones are deleted, for good' }[action];
    if (!window.confirm(`${what} ${ids.length} task${ids.length === 1 ? '' : 's'}? (${rule})`)) return;
    for (const button of bulkButtons) button.disabled = true;
    try {
      const { data } = await send('POST', tasksUrl('/bulk'), { action, ids });
      const verb = { stop: 'stopped', retry: 'queued again', delete: 'deleted' }[action];
      selected.clear();
      done({ ok: true, message: `${data.affected} of ${data.matched} selected tasks ${verb}.` });
    } catch (error) {
      renderSelection();
      done({ ok: false, message: error instanceof ApiError ? error.message : `${label} failed: ${error.message}` });
    }
  }

  const pager = h('nav', { class: 'pager', 'aria-label': 'Pages' });

  const typeSelect = h('select', { id: 'filter-type', name: 'type' }, h('option', { value: '' }, 'Any type'));
  const queueInput = h('input', { id: 'filter-queue', name: 'queue', type: 'text', list: 'queue-names', value: filter.queue, autocomplete: 'off', placeholder: 'Any queue' });
  const queueNames = h('datalist', { id: 'queue-names' });
  const filters = h('form', {
    class: 'filters', role: 'search', 'aria-label': 'Filter tasks',
    onsubmit: (event) => {
      event.preventDefault();
      app.navigate(link({ type: typeSelect.value, queue: queueInput.value.trim() }));
    },
  },
  h('div', { class: 'field' }, h('label', { for: 'filter-type' }, 'Type'), typeSelect),
  h('div', { class: 'field' }, h('label', { for: 'filter-queue' }, 'Queue'), queueInput, queueNames),
  h('div', { class: 'field field-button' }, h('button', { type: 'submit', class: 'secondary' }, 'Apply filters')),
  filter.type || filter.queue ? h('div', { class: 'field field-button' }, h('a', { class: 'button quiet', href: link({ type: '', queue: '' }) }, 'Clear')) : null);

  const idInput = h('input', { id: 'find-id', name: 'id', type: 'text', inputmode: 'numeric', pattern: '[0-9]*', autocomplete: 'off', placeholder: 'e.g. 42', 'aria-describedby': 'find-error' });
  const findError = h('p', { id: 'find-error', class: 'field-error', hidden: true });
  const find = h('form', {
    class: 'find', role: 'search', 'aria-label': 'Find a task by id',
    onsubmit: (event) => {
      event.preventDefault();
      const id = idInput.value.trim().replace(/^#/, '');
      if (!/^[1-9][0-9]*$/.test(id)) {
        findError.textContent = 'A task id is a positive whole number.';
        findError.hidden = false;
        idInput.setAttribute('aria-invalid', 'true');
        idInput.focus();
        return;
      }
      app.navigate(`#/tasks/${id}`);
    },
  },
  h('div', { class: 'field' }, h('label', { for: 'find-id' }, 'Find by id'), h('div', { class: 'inline' }, idInput, h('button', { type: 'submit', class: 'secondary' }, 'Open')), findError));

  fill(main,
    h('div', { class: 'page-head' }, h('h1', {}, 'Tasks'), find),
    h('nav', { 'aria-label': 'Filter by state' }, stateNav),
    filters,
    summary,
    message,
    bulkBar,
    results,
    pager);

  function renderStates(stats) {
    const count = (state) => (stats ? formatNumber(state === 'all' ? stats.total : stats.counts[state]) : '');
    fill(stateNav, ['all', ...STATES].map((state) => h('li', {},
      h('a', { class: `chip state-${state}`, href: link({ state }), 'aria-current': filter.state === state ? 'page' : null },
        state === 'all' ? 'All' : state, ' ', h('span', { class: 'chip-count' }, count(state))))));
  }

  function renderTypes(types) {
    const names = new Set(types);
    if (filter.type) names.add(filter.type);
    fill(typeSelect, h('option', { value: '' }, 'Any type'),
      [...names].sort().map((type) => h('option', { value: type, selected: type === filter.type }, type)));
  }

  function renderQueues(overview) {
    fill(queueNames, ...(overview?.queues ?? []).map((q) => h('option', { value: q.queue })));
  }

  let shownIds = null;
  let previousIds = null;
  async function load() {
    const query = new URLSearchParams({ state: filter.state, limit: String(PAGE_SIZE) });
    if (filter.type) query.set('type', filter.type);
    if (filter.queue) query.set('queue', filter.queue);
    if (filter.cursor) query.set('cursor', filter.cursor);
    results.setAttribute('aria-busy', 'true');
    try {
      const page = await getJson(tasksUrl(`?${query}`));
      const fresh = previousIds ? page.tasks.filter((task) => !previousIds.has(task.id)).length : 0;
      shownIds = new Set(page.tasks.map((task) => task.id));
      for (const id of [...selected]) if (!shownIds.has(id)) selected.delete(id);
      renderRows(page.tasks, previousIds);
      previousIds = shownIds;
      renderSelection();
      renderPager(page.nextCursor);
      const what = [filter.state === 'all' ? 'tasks' : `${filter.state} tasks`, filter.type && `of type ${filter.type}`, filter.queue && `in queue ${filter.queue}`]
        .filter(Boolean).join(' ');
      summary.textContent = page.tasks.length === 0
        ? `No ${what}${filter.cursor ? ' on this page' : ''}.`
        : `${page.tasks.length}${page.nextCursor ? '+' : ''} ${what}, newest first${filter.cursor ? ' (older page)' : ''}.${fresh ? ` ${fresh} new.` : ''}`;
    } catch (error) {
      app.showError(results, error);
      summary.textContent = '';
    } finally {
      results.removeAttribute('aria-busy');
    }
  }

  function renderRows(tasks, previous) {
    if (tasks.length === 0) {
      fill(results);
      return;
    }
    const now = Date.now();
    const all = h('input', {
      type: 'checkbox', 'aria-label': 'Select every task on this page', checked: tasks.every((task) => selected.has(task.id)),
      onchange: (event) => {
        for (const task of tasks) {
          if (event.target.checked) selected.add(task.id);
          else selected.delete(task.id);
        }
        for (const box of results.querySelectorAll('input[data-select]')) box.checked = event.target.checked;
        renderSelection();
      },
    });
    const pick = (task) => h('input', {
      type: 'checkbox', 'aria-label': `Select task ${task.id}`, checked: selected.has(task.id), dataset: { select: String(task.id) },
      onchange: (event) => {
        if (event.target.checked) selected.add(task.id);
        else selected.delete(task.id);
        all.checked = tasks.every((t) => selected.has(t.id));
        renderSelection();
      },
    });
    fill(results, h('table', { class: 'data responsive tasks' },
      h('caption', { class: 'visually-hidden' }, 'Tasks, newest first'),
      h('thead', {}, h('tr', {},
        h('th', { scope: 'col', class: 'select' }, all),
        ['Id', 'Type', 'Queue', 'State', 'Attempt', 'Created', 'Timing', 'Node'].map((name) => h('th', { scope: 'col' }, name)),
        h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Actions')))),
      h('tbody', {}, tasks.map((task) => h('tr', { class: previous && !previous.has(task.id) ? 'fresh' : null, dataset: { id: task.id, state: task.state } },
        h('td', { class: 'select' }, pick(task)),
        h('td', { 'data-label': 'Id' }, h('a', { href: `#/tasks/${task.id}` }, `#${task.id}`)),
        h('td', { 'data-label': 'Type' }, task.type,
          task.schedule ? h('a', { class: 'tag schedule-link', href: scheduleHash(task.schedule), title: `Made by schedule ${task.schedule}` }, task.schedule) : null),
        h('td', { 'data-label': 'Queue' }, task.queue),
        h('td', { 'data-label': 'State' }, stateBadge(task.state), task.stopRequested && task.state === 'running' ? h('span', { class: 'muted small' }, ' stopping') : null,
          task.state === 'running' ? progressBar(task.progress, { compact: true }) : null),
        h('td', { 'data-label': 'Attempt' }, `${task.attempt} of ${task.maxAttempts}`),
        h('td', { 'data-label': 'Created' }, timeElement(task.createdAt)),
        h('td', { 'data-label': 'Timing' }, describeTiming(task, now)),
        h('td', { 'data-label': 'Node' }, task.node ?? h('span', { class: 'muted' }, '—')),
        h('td', { class: 'row-actions' }, actionButtons(task, done, { compact: true })))))));
  }

  function done(result) {
    message.textContent = result.message;
    message.className = result.ok ? 'message ok' : 'message error';
    app.announce(result.message);
    refresh();
  }

  function renderPager(nextCursor) {
    const items = [];
    if (filter.cursor) {
      items.push(h('a', { class: 'button quiet', href: link({}) }, 'Newest'));
      const previous = previousCursors.get(filter.cursor);
      items.push(h('a', { class: 'button secondary', href: link({ cursor: previous ?? '' }), rel: 'prev' }, '← Newer'));
    }
    if (nextCursor) {
      previousCursors.set(nextCursor, filter.cursor);
      items.push(h('a', { class: 'button secondary', href: link({ cursor: nextCursor }), rel: 'next' }, 'Older →'));
    }
    fill(pager, ...items);
    pager.hidden = items.length === 0;
  }

  renderStates(app.stats);
  renderQueues(app.overview);
  renderTypes([]);
  app.handlers().then((handlers) => renderTypes([...handlers.types, ...(handlers.externalTypes ?? []).filter((name) => name !== '*')]), () => {});
  const refresh = refresher(load);
  refresh();

  return {
    title: 'Tasks',
    onStats(stats) {
      renderStates(stats);
      refresh();
    },
    onOverview: renderQueues,
    onProgress(progress) {
      // A shown running task moved on: read the page again (the refresher spaces the reads out).
      if (shownIds && progress.tasks.some((task) => shownIds.has(task.id))) refresh();
    },
    dispose: () => refresh.dispose(),
  };
}
