// Stop and retry, through the same endpoints as any client: DELETE /tasks/{id} and POST /tasks/{id}/retry.
// The result is announced to screen readers and returned for the view to show.

import { send, tasksUrl, ApiError } from './api.js';
import { h, FINAL_STATES } from './util.js';

export const canStop = (task) => !FINAL_STATES.has(task.state);
export const canRetry = (task) => task.state === 'failed' || task.state === 'cancelled';

/** Returns { ok, message }. */
export async function stopTask(id) {
  try {
    const { status } = await send('DELETE', tasksUrl(`/${id}`));
    return status === 202
      ? { ok: true, message: `Stop of task ${id} requested; its handler has not stopped yet.` }
      : { ok: true, message: `Task ${id} stopped.` };
  } catch (error) {
    return { ok: false, message: error instanceof ApiError ? error.message : `Task ${id} could not be stopped: ${error.message}` };
  }
}

export async function retryTask(id) {
  try {
    await send('POST', tasksUrl(`/${id}/retry`));
    return { ok: true, message: `Task ${id} is queued again.` };
  } catch (error) {
    return { ok: false, message: error instanceof ApiError ? error.message : `Task ${id} could not be retried: ${error.message}` };
  }
}

/**
 * Stop and Retry buttons for a task. While a request is out the button says so and is disabled; then
 * done({ ok, message }) runs (the view refreshes and shows the message). A failed action changes nothing on the
 * server, so the view may not redraw: the button itself comes back, ready to be pressed again.
 */
export function actionButtons(task, done, { compact = false } = {}) {
  const buttons = [];
  const make = (label, busyLabel, action, className) => {
    const button = h('button', {
      type: 'button',
      class: className,
      'aria-label': compact ? `${label} task ${task.id}` : null,
      onclick: async () => {
        button.disabled = true;
        button.textContent = busyLabel;
        const result = await action(task.id);
        if (!result.ok) {
          button.textContent = label;
          button.disabled = false;
        }
        done(result);
      },
    }, label);
    return button;
  };
  if (canStop(task)) buttons.push(make('Stop', 'Stopping…', stopTask, 'danger'));
  if (canRetry(task)) buttons.push(make('Retry', 'Retrying…', retryTask, 'secondary'));
  return buttons;
}
