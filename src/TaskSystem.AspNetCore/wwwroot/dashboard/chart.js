// The throughput chart: one stacked bar per minute of the last hour (succeeded, failed, cancelled), drawn as SVG.
// Hand-written rather than a charting library: it is one chart of about sixty rectangles.

import { h, s, formatNumber } from './util.js';

const SERIES = [
  { key: 'succeeded', label: 'Succeeded' },
  { key: 'failed', label: 'Failed' },
  { key: 'cancelled', label: 'Cancelled' },
];
const WIDTH = 600;
const HEIGHT = 160;

/** Returns a <figure> with the chart, its legend, its axis labels and a text summary for screen readers. */
export function throughputChart(throughput) {
  const buckets = throughput?.buckets ?? [];
  const totals = Object.fromEntries(SERIES.map(({ key }) => [key, buckets.reduce((sum, b) => sum + b[key], 0)]));
  const busiest = Math.max(0, ...buckets.map((b) => b.succeeded + b.failed + b.cancelled));
  const scale = niceCeiling(Math.max(1, busiest));
  const slot = WIDTH / Math.max(1, buckets.length);
  const barWidth = Math.max(1, slot * 0.78);
  const summary = `In the last hour: ${SERIES.map(({ key }) => `${formatNumber(totals[key])} ${key}`).join(', ')}. `
    + `Busiest minute: ${formatNumber(busiest)} tasks.`;

  const grid = [0.25, 0.5, 0.75, 1].map((fraction) => s('line', {
    class: 'chart-grid', x1: 0, x2: WIDTH, y1: HEIGHT - fraction * HEIGHT, y2: HEIGHT - fraction * HEIGHT, 'vector-effect': 'non-scaling-stroke',
  }));
  const bars = buckets.map((bucket, index) => {
    let top = HEIGHT;
    const x = index * slot + (slot - barWidth) / 2;
    const parts = SERIES.filter(({ key }) => bucket[key] > 0).map(({ key }) => {
      const height = (bucket[key] / scale) * HEIGHT;
      top -= height;
      return s('rect', { class: `bar-${key}`, x: x.toFixed(2), y: top.toFixed(2), width: barWidth.toFixed(2), height: height.toFixed(2) });
    });
    const time = new Date(bucket.start).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
    const tip = `${time}: ${SERIES.map(({ key }) => `${bucket[key]} ${key}`).join(', ')}`;
    // A full-height transparent rectangle makes every minute easy to point at, empty or not.
    return s('g', { class: 'chart-bucket' }, s('title', {}, tip), s('rect', { class: 'chart-hit', x: index * slot, y: 0, width: slot, height: HEIGHT }), parts);
  });

  const svg = s('svg', {
    class: 'chart', viewBox: `0 0 ${WIDTH} ${HEIGHT}`, preserveAspectRatio: 'none', role: 'img', 'aria-labelledby': 'throughput-summary',
  }, grid, bars, s('line', { class: 'chart-axis', x1: 0, x2: WIDTH, y1: HEIGHT, y2: HEIGHT, 'vector-effect': 'non-scaling-stroke' }));

  return h('figure', { class: 'chart-figure' },
    h('div', { class: 'chart-scale', 'aria-hidden': 'true' }, h('span', {}, `${formatNumber(scale)} / min`), h('span', {}, `${formatNumber(scale / 2)}`)),
    svg,
    h('div', { class: 'chart-axis-labels', 'aria-hidden': 'true' }, h('span', {}, '60 min ago'), h('span', {}, '30 min ago'), h('span', {}, 'now')),
    h('figcaption', {},
      h('ul', { class: 'legend' }, SERIES.map(({ key, label }) => h('li', {},
        h('span', { class: `swatch bar-${key}`, 'aria-hidden': 'true' }), `${label} `, h('strong', {}, formatNumber(totals[key]))))),
      h('p', { id: 'throughput-summary', class: 'visually-hidden' }, summary)));
}

/** 1, 2, 5, 10, 20, 50…: a round top for the scale. */
function niceCeiling(value) {
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) {
    if (value <= step * magnitude) return step * magnitude;
  }
  return 10 * magnitude;
}
