#!/usr/bin/env node
// A TaskSystem worker in Node.js, with no dependencies (Node 18 or later: fetch is built in). docs/workers.md
// explains the protocol.
//
// It claims tasks from the server in a loop, runs a function per task type, keeps the task's lease alive while the
// function runs (a heartbeat that also brings a stop back at once), then reports success or failure.
//
//     TASKSYSTEM_URL=http://localhost:4000 node samples/workers/node/worker.js
//
// Settings come from the environment: TASKSYSTEM_URL, TASKSYSTEM_API_KEY (when the server has keys), WORKER_NAME,
// LEASE_SECONDS (how long the server waits for a heartbeat before it gives the task to another worker; default 30).
const { setTimeout: sleep } = require('node:timers/promises');

const SERVER = (process.env.TASKSYSTEM_URL ?? 'http://localhost:4000').replace(/\/$/, '');
const API_KEY = process.env.TASKSYSTEM_API_KEY;
const WORKER = process.env.WORKER_NAME ?? `node-${process.pid}`;
const LEASE_SECONDS = Number(process.env.LEASE_SECONDS ?? 30);

/** A failure that another attempt cannot fix: reported with retryable false. */
class PermanentError extends Error {
  name = 'PermanentError';
}

// One function per task type: it gets the payload and an AbortSignal that fires when the task must stop.
const handlers = {
  /** Waits payload.seconds (default 1), giving up at once if stopped, then returns the payload. */
  async echo(payload, signal) {
    await sleep((payload.seconds ?? 1) * 1000, undefined, { signal });
    return payload;
  },
  /** Counts the words of payload.text. */
  async 'word-count'(payload) {
    if (typeof payload.text !== 'string') throw new PermanentError('payload.text must be a string');
    return { words: payload.text.split(/\s+/).filter(Boolean).length };
  },
};

/** POSTs JSON; returns { status, body }. Errors come back as RFC 9457 problems: { detail, ... }. */
async function call(path, body) {
  const headers = { 'Content-Type': 'application/json' };
  if (API_KEY) headers.Authorization = `Bearer ${API_KEY}`;
  try {
    const response = await fetch(SERVER + path, { method: 'POST', headers, body: JSON.stringify(body) });
    return { status: response.status, body: await response.json() };
  } catch (error) { // the server is down or unreachable: try again later
    return { status: 0, body: { detail: String(error.cause ?? error) } };
  }
}

/**
 * Renews the lease until the task finishes. Each heartbeat waits up to a third of the lease on the server and answers
 * at once if the task is stopped, so a stop reaches the function within milliseconds.
 */
async function keepLease(task, stop, finished) {
  while (!finished.aborted) {
    const { status, body } = await call(`/tasks/${task.id}/heartbeat`,
      { leaseToken: task.leaseToken, leaseSeconds: LEASE_SECONDS, waitSeconds: LEASE_SECONDS / 3 });
    if (finished.aborted) return;
    if (status === 409 || status === 404 || (status === 200 && body.stopRequested)) {
      stop.abort(); // stopped, or the lease is lost: the task belongs to someone else now
      return;
    }
    if (status !== 200) await sleep(1000); // the server is unreachable: the lease lasts a while yet, try again
  }
}

async function run(task) {
  const stop = new AbortController();
  const finished = new AbortController();
  const lease = keepLease(task, stop, finished.signal);
  let path;
  let body;
  try {
    const result = await handlers[task.type](task.payload, stop.signal);
    [path, body] = ['complete', { leaseToken: task.leaseToken, result }];
  } catch (error) {
    const retryable = !stop.signal.aborted && !(error instanceof PermanentError); // anything else may pass on another attempt
    const message = stop.signal.aborted ? 'stopped' : `${error.name}: ${error.message}`;
    [path, body] = ['fail', { leaseToken: task.leaseToken, error: message, retryable }];
  } finally {
    finished.abort();
  }
  const { status, body: answer } = await call(`/tasks/${task.id}/${path}`, body);
  await lease;
  const outcome = status === 200 ? answer.state : `not recorded (${answer.reason ?? status}: ${answer.detail})`;
  console.log(`task ${task.id} (${task.type}) attempt ${task.attempt}: ${outcome}`);
}

async function main() {
  console.log(`worker ${WORKER} claiming ${Object.keys(handlers).join(', ')} from ${SERVER}`);
  for (;;) {
    // A long poll: the answer comes as soon as a task is ready, or empty after waitSeconds.
    const { status, body } = await call('/workers/claim',
      { worker: WORKER, types: Object.keys(handlers), max: 1, waitSeconds: 20, leaseSeconds: LEASE_SECONDS });
    if (status !== 200) {
      console.log(`claim failed (${status}): ${body.detail}`);
      await sleep(1000);
      continue;
    }
    for (const task of body.tasks) await run(task);
  }
}

main();
