// The enqueue form: POST /tasks with the task envelope. The server checks everything; its message appears next
// to the field it names (problem+json "field"), or above the form when it names none.

import { send, tasksUrl, ApiError } from '../api.js';
import { h, fill } from '../util.js';

const FIELDS = ['type', 'payload', 'queue', 'priority', 'maxAttempts', 'timeoutSeconds', 'runAt'];

/** The choice that lets a person type any type name, offered when external workers take any type (*). */
const OTHER_TYPE = '(other)';

export function mountEnqueue(main, _params, app) {
  const ids = Object.fromEntries(FIELDS.map((name) => [name, `enqueue-${name}`]));
  const errors = Object.fromEntries(FIELDS.map((name) => [name, h('p', { id: `${ids[name]}-error`, class: 'field-error', hidden: true })]));
  const described = (name, hint) => [hint ? `${ids[name]}-hint` : null, `${ids[name]}-error`].filter(Boolean).join(' ');
  const hint = (name, text) => h('p', { id: `${ids[name]}-hint`, class: 'hint' }, text);

  const type = h('select', { id: ids.type, name: 'type', required: true, 'aria-describedby': described('type') }, h('option', { value: '' }, 'Loading…'));
  const payload = h('textarea', {
    id: ids.payload, name: 'payload', rows: 8, spellcheck: 'false', class: 'mono', 'aria-describedby': described('payload', true),
  });
  // Until the person types a payload, it follows the type: the demo handler gets an example, others an empty object.
  let payloadTouched = false;
  payload.addEventListener('input', () => { payloadTouched = true; });
  const suggestPayload = () => {
    if (!payloadTouched) payload.value = type.value === 'demo' ? '{\n  "durationMs": 10000,\n  "failAttempts": 0\n}' : '{}';
  };
  type.addEventListener('change', suggestPayload);
  // Any type name, for external workers (TaskSystem:ExternalTypes has *): shown when that choice is picked.
  const otherType = h('input', {
    id: `${ids.type}-other`, name: 'otherType', type: 'text', autocomplete: 'off', spellcheck: 'false', hidden: true,
    'aria-label': 'Type name (run by external workers)', 'aria-describedby': described('type'),
  });
  type.addEventListener('change', () => {
    otherType.hidden = type.value !== OTHER_TYPE;
    if (!otherType.hidden) otherType.focus();
  });
  const queue = h('input', { id: ids.queue, name: 'queue', type: 'text', autocomplete: 'off', 'aria-describedby': described('queue', true) });
  const priority = h('input', { id: ids.priority, name: 'priority', type: 'number', step: 1, inputmode: 'numeric', placeholder: '0', 'aria-describedby': described('priority', true) });
  const maxAttempts = h('input', { id: ids.maxAttempts, name: 'maxAttempts', type: 'number', step: 1, min: 1, inputmode: 'numeric', 'aria-describedby': described('maxAttempts', true) });
  const timeoutSeconds = h('input', { id: ids.timeoutSeconds, name: 'timeoutSeconds', type: 'number', step: 'any', min: 0, inputmode: 'decimal', 'aria-describedby': described('timeoutSeconds', true) });
  const runAt = h('input', { id: ids.runAt, name: 'runAt', type: 'datetime-local', step: 1, 'aria-describedby': described('runAt', true) });
  const inputs = { type, payload, queue, priority, maxAttempts, timeoutSeconds, runAt };

  const formError = h('div', { class: 'form-error', role: 'alert', hidden: true });
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Enqueue');
  const field = (name, label, control, hintText) => h('div', { class: 'field' },
    h('label', { for: ids[name] }, label), hintText ? hint(name, hintText) : null, control, errors[name]);

  const form = h('form', { class: 'enqueue', novalidate: true, 'aria-labelledby': 'enqueue-title', onsubmit: onSubmit },
    formError,
    field('type', 'Type', h('div', { class: 'type-choice' }, type, otherType)),
    field('payload', 'Payload (JSON object)', payload, 'What the handler gets. The demo handler sleeps durationMs and fails its first failAttempts attempts.'),
    h('fieldset', { class: 'options' },
      h('legend', {}, 'Options (blank for the defaults)'),
      h('div', { class: 'option-grid' },
        field('queue', 'Queue', queue, 'A label to group tasks.'),
        field('priority', 'Priority', priority, 'Lower runs first, −1000 to 1000.'),
        field('maxAttempts', 'Max attempts', maxAttempts, 'Attempts before it fails.'),
        field('timeoutSeconds', 'Timeout (seconds)', timeoutSeconds, 'Per attempt.'),
        field('runAt', 'Run at (your local time)', runAt, 'Blank to run now.'))),
    h('div', { class: 'form-actions' }, submit));

  fill(main, h('div', { class: 'page-head' }, h('h1', { id: 'enqueue-title' }, 'New task')), form);

  app.handlers().then((handlers) => {
    const option = (name) => h('option', { value: name }, name);
    const external = handlers.externalTypes ?? [];
    const named = external.filter((name) => name !== '*');
    if (external.length === 0) {
      fill(type, ...handlers.types.map(option));
    } else {
      // Types external workers run come apart from the server's own, and * lets any other name be typed.
      fill(type,
        handlers.types.length ? h('optgroup', { label: 'Run by this server' }, ...handlers.types.map(option)) : null,
        named.length ? h('optgroup', { label: 'Run by external workers' }, ...named.map(option)) : null,
        external.includes('*') ? h('option', { value: OTHER_TYPE }, 'Another type (external workers)…') : null);
    }
    if (handlers.types.length === 0 && external.length === 0) fill(type, h('option', { value: '' }, 'No handlers are registered'));
    queue.placeholder = handlers.defaultQueue;
    maxAttempts.placeholder = String(handlers.defaultMaxAttempts);
    timeoutSeconds.placeholder = String(handlers.defaultTimeoutSeconds);
    suggestPayload();
  }, (error) => showErrors(error));

  function clearErrors() {
    formError.hidden = true;
    fill(formError);
    for (const name of FIELDS) {
      errors[name].hidden = true;
      errors[name].textContent = '';
      inputs[name].removeAttribute('aria-invalid');
    }
    otherType.removeAttribute('aria-invalid');
  }

  function showFieldError(name, text) {
    const input = name === 'type' && type.value === OTHER_TYPE ? otherType : inputs[name];
    errors[name].textContent = text;
    errors[name].hidden = false;
    input.setAttribute('aria-invalid', 'true');
    input.focus();
  }

  function showErrors(error) {
    const name = error instanceof ApiError && FIELDS.includes(error.field) ? error.field : null;
    if (name) {
      showFieldError(name, error.message);
    } else {
      fill(formError, h('p', {}, error.message));
      formError.hidden = false;
      formError.setAttribute('tabindex', '-1');
      formError.focus();
    }
  }

  /** Only what was filled in goes to the server, as typed: it judges the values. */
  function envelope() {
    const body = { type: type.value === OTHER_TYPE ? otherType.value.trim() : type.value };
    const text = payload.value.trim();
    if (text) {
      try {
        body.payload = JSON.parse(text);
      } catch (error) {
        return { error: ['payload', `The payload is not valid JSON: ${error.message}`] };
      }
    }
    if (queue.value.trim()) body.queue = queue.value.trim();
    for (const [name, input] of [['priority', priority], ['maxAttempts', maxAttempts], ['timeoutSeconds', timeoutSeconds]]) {
      if (input.validity.badInput) return { error: [name, `${name} must be a number.`] };
      if (input.value !== '') body[name] = Number(input.value);
    }
    if (runAt.value) body.runAt = new Date(runAt.value).toISOString();
    return { body };
  }

  async function onSubmit(event) {
    event.preventDefault();
    clearErrors();
    const { body, error } = envelope();
    if (error) {
      showFieldError(...error);
      return;
    }
    submit.disabled = true;
    submit.textContent = 'Enqueuing…';
    try {
      const { data } = await send('POST', tasksUrl(''), body);
      app.announce(`Task ${data.id} enqueued.`);
      app.navigate(`#/tasks/${data.id}`);
    } catch (failure) {
      showErrors(failure);
    } finally {
      submit.disabled = false;
      submit.textContent = 'Enqueue';
    }
  }

  return { title: 'New task' };
}
