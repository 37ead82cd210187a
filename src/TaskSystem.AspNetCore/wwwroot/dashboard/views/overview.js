// Overview: tasks per state (live), the last hour's throughput, tasks per queue, and each node's workers.

import { ApiError, send } from '../api.js';
import { throughputChart } from '../chart.js';
import { h, fill, STATES, formatNumber, formatAge, formatDuration, hashFor, timeElement } from '../util.js';

export function mountOverview(main, _params, app) {
  const counts = h('ul', { class: 'state-cards', 'aria-label': 'Tasks per state' });
  const chart = h('div', { class: 'chart-holder' }, h('p', { class: 'muted' }, 'Loading…'));
  const queues = h('div', { class: 'table-holder' });
  const nodes = h('div', { class: 'table-holder' });
  const updated = h('p', { class: 'muted small' });
  const notice = h('div');

  fill(main,
    h('div', { class: 'page-head' }, h('h1', {}, 'Overview'), updated),
    notice,
    h('section', { 'aria-labelledby': 'states-title' }, h('h2', { id: 'states-title' }, 'Tasks by state'), counts),
    h('div', { class: 'columns' },
      h('section', { class: 'panel wide', 'aria-labelledby': 'throughput-title' },
        h('h2', { id: 'throughput-title' }, 'Finished per minute, last hour'), chart),
      h('section', { class: 'panel', 'aria-labelledby': 'nodes-title' }, h('h2', { id: 'nodes-title' }, 'Nodes'), nodes)),
    h('section', { class: 'panel', 'aria-labelledby': 'queues-title' }, h('h2', { id: 'queues-title' }, 'Queues'), queues));

  function renderCounts(stats) {
    const total = stats?.total ?? 0;
    fill(counts,
      h('li', {}, h('a', { class: 'state-card', href: hashFor('/tasks', { state: 'all' }) },
        h('span', { class: 'state-card-label' }, 'All tasks'), h('span', { class: 'state-card-count', 'data-state': 'all' }, formatNumber(total)))),
      STATES.map((state) => h('li', {}, h('a', { class: `state-card state-${state}`, href: hashFor('/tasks', { state }) },
        h('span', { class: 'state-card-label' }, state), h('span', { class: 'state-card-count', 'data-state': state }, formatNumber(stats?.counts?.[state]))))));
  }

  function renderOverview(overview) {
    renderCounts(app.stats ?? overview);
    fill(chart, throughputChart(overview.throughput));
    fill(queues, queueTable(overview.queues, setPaused));
    fill(nodes, nodeList(overview.nodes));
    fill(updated, 'Figures as of ', timeElement(overview.time), '; they change live.');
  }

  // The figures come from the event stream, which sends an overview as soon as it connects: opening the page
  // costs the server no query of its own, however many people open it.
  function renderStatus(state) {
    if (state === 'locked' && !app.overview) app.showError(notice, new ApiError(401, null));
    else fill(notice);
  }

  // Pause and resume reach every node; the stream brings the new state back to every open dashboard.
  async function setPaused(queue, paused, button) {
    button.disabled = true;
    button.textContent = paused ? 'Pausing…' : 'Resuming…';
    try {
      await send('POST', `dashboard/api/queues/${encodeURIComponent(queue)}/${paused ? 'pause' : 'resume'}`);
      app.announce(paused ? `Queue ${queue} paused: no new task of it starts on any node.` : `Queue ${queue} resumed.`);
    } catch (error) {
      button.disabled = false;
      button.textContent = paused ? 'Pause' : 'Resume';
      app.announce(error instanceof ApiError ? error.message : `Queue ${queue} could not be changed: ${error.message}`);
    }
  }

  if (app.overview) renderOverview(app.overview);
  else if (app.stats) renderCounts(app.stats);
  renderStatus(app.status);

  return {
    title: 'Overview',
    onStats: renderCounts,
    onOverview(overview) {
      fill(notice);
      renderOverview(overview);
    },
    onStatus: renderStatus,
  };
}

function queueTable(queues, setPaused) {
  if (!queues?.length) return h('p', { class: 'muted' }, 'No tasks yet.');
  return h('table', { class: 'data responsive queues' },
    h('caption', { class: 'visually-hidden' }, 'Tasks per queue and state'),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Queue'), STATES.map((state) => h('th', { scope: 'col', class: 'num' }, state)),
      h('th', { scope: 'col', class: 'num' }, 'Total'), h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Pause or resume')))),
    h('tbody', {}, queues.map((queue) => h('tr', { dataset: { queue: queue.queue, paused: String(Boolean(queue.paused)) } },
      h('th', { scope: 'row', 'data-label': 'Queue' }, h('a', { href: hashFor('/tasks', { state: 'all', queue: queue.queue }) }, queue.queue),
        queue.paused ? h('span', { class: 'tag paused' }, 'paused') : null),
      STATES.map((state) => h('td', { class: queue.counts[state] ? 'num' : 'num zero', 'data-label': state },
        queue.counts[state] ? h('a', { href: hashFor('/tasks', { state, queue: queue.queue }) }, formatNumber(queue.counts[state])) : h('span', { class: 'muted' }, '0'))),
      h('td', { class: 'num', 'data-label': 'Total' }, formatNumber(queue.total)),
      h('td', { class: 'row-actions' }, pauseButton(queue, setPaused))))));
}

function pauseButton(queue, setPaused) {
  const paused = Boolean(queue.paused);
  const button = h('button', {
    type: 'button',
    class: paused ? 'secondary' : 'quiet',
    'aria-label': `${paused ? 'Resume' : 'Pause'} queue ${queue.queue}`,
    onclick: () => setPaused(queue.queue, !paused, button),
  }, paused ? 'Resume' : 'Pause');
  return button;
}

function nodeList(nodes) {
  if (!nodes?.length) return h('p', { class: 'muted' }, 'No node has reported yet.');
  return h('ul', { class: 'nodes' }, nodes.map((node) => h('li', { class: 'node' },
    h('div', { class: 'node-head' },
      h('strong', {}, node.name),
      node.current ? h('span', { class: 'tag' }, 'this server') : null,
      node.alive ? null : h('span', { class: 'badge state-failed' }, 'lost')),
    h('div', { class: 'node-workers' },
      h('span', {}, `${node.busy} of ${node.workers} workers busy`),
      h('meter', { min: 0, max: node.workers, value: node.busy, 'aria-label': `${node.name}: ${node.busy} of ${node.workers} workers busy` })),
    h('p', { class: 'muted small' }, `Heartbeat ${formatAge(node.heartbeatAt)} · up ${formatDuration(Date.now() - Date.parse(node.startedAt))}`))));
}

