// The dashboard's live feed: GET dashboard/api/events (beside the page) read with fetch() and a stream parser rather than
// EventSource, because EventSource cannot send the Authorization header. Reconnects by itself after a network
// error, a server restart or a silent connection, waiting the server's `retry:` delay, backing off to 15 s.

import { apiFetch, ApiError, nextKey } from './api.js';

/** No byte for this long (the server sends a comment every 15 s) means the connection is dead. */
const STALL_MS = 45000;
const MAX_DELAY_MS = 15000;

/**
 * Opens the stream. onEvent({ event, data, id }) gets each event with its data parsed as JSON; onStatus(state)
 * gets 'connecting', 'live', 'reconnecting' or 'locked' (an API key is needed and none was given).
 */
export function connectEvents({ onEvent, onStatus }) {
  let retryMs = 2000;
  let failures = 0;
  let stopped = false;
  let controller = null;
  let wake = null;

  const sleep = (ms) => new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    wake = () => {
      clearTimeout(timer);
      resolve();
    };
  });

  async function run() {
    onStatus('connecting');
    while (!stopped) {
      controller = new AbortController();
      let watchdog = 0;
      const arm = () => {
        clearTimeout(watchdog);
        watchdog = setTimeout(() => controller.abort(), STALL_MS);
      };
      try {
        const response = await apiFetch('dashboard/api/events', {
          headers: { Accept: 'text/event-stream' },
          signal: controller.signal,
        });
        if (!response.ok || !response.body) throw new ApiError(response.status, null);
        failures = 0;
        onStatus('live');
        arm();
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
        const parse = createParser((event) => dispatch(event, onEvent), (ms) => { retryMs = ms; });
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          arm();
          parse(value);
        }
      } catch (error) {
        if (error instanceof ApiError && error.status === 401) {
          // The person dismissed the key prompt: wait for a key rather than ask again and again.
          onStatus('locked');
          await nextKey();
          continue;
        }
      } finally {
        clearTimeout(watchdog);
      }
      if (stopped) return;
      failures += 1;
      onStatus('reconnecting');
      const backoff = Math.min(retryMs * 2 ** Math.min(failures - 1, 3), MAX_DELAY_MS);
      await sleep(backoff * (0.75 + Math.random() / 2));
    }
  }

  run();
  return {
    close() {
      stopped = true;
      controller?.abort();
      wake?.();
    },
    /** Skips the wait before the next attempt (the person asked, or the tab came back online). */
    reconnectNow() {
      wake?.();
    },
  };
}

function dispatch(event, onEvent) {
  let data = event.data;
  try {
    data = JSON.parse(event.data);
  } catch {
    // Not JSON: passed on as text.
  }
  onEvent({ event: event.event, data, id: event.id });
}

/**
 * The text/event-stream format: lines of "field: value"; a blank line ends an event; lines starting with ':'
 * are comments (heartbeats). Returns a function to feed decoded chunks to.
 */
export function createParser(onEvent, onRetry) {
  let buffer = '';
  let data = [];
  let name = '';
  let lastId = null;
  return (chunk) => {
    buffer += chunk;
    for (;;) {
      const end = buffer.search(/[\r\n]/);
      if (end < 0) return;
      if (buffer[end] === '\r' && end === buffer.length - 1) return; // A "\r\n" may be split across chunks.
      const line = buffer.slice(0, end);
      buffer = buffer.slice(end + (buffer[end] === '\r' && buffer[end + 1] === '\n' ? 2 : 1));
      if (line === '') {
        if (data.length > 0) onEvent({ event: name || 'message', data: data.join('\n'), id: lastId });
        data = [];
        name = '';
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      let value = colon < 0 ? '' : line.slice(colon + 1);
      if (value.startsWith(' ')) value = value.slice(1);
      if (field === 'event') name = value;
      else if (field === 'data') data.push(value);
      else if (field === 'id' && !value.includes('\0')) lastId = value;
      else if (field === 'retry' && /^\d+$/.test(value)) onRetry(Number(value));
    }
  };
}
