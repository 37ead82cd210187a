// Every request of the dashboard goes through apiFetch: it sends the API key, when one is kept, as
// "Authorization: Bearer KEY", and when the server answers 401 it asks for a key, keeps it in sessionStorage
// (this tab only) and tries again. Errors come back as the server's problem+json: ApiError keeps its detail and field.

const KEY_STORAGE = 'tasksystem.apiKey';

// The task API may live anywhere in the app that serves this page: the page says where (a <meta> the server fills
// in). The dashboard's own data sits beside the page, so those requests use relative URLs.
const TASKS_API = (document.querySelector('meta[name="tasksystem-api"]')?.content || '/tasks').replace(/\/+$/, '');

/** The URL of the task API with a suffix: tasksUrl('/5/retry'), tasksUrl('?state=all'). */
export function tasksUrl(suffix) {
  return TASKS_API + suffix;
}
const keyListeners = new Set();
let prompt = null;

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || `The server answered ${status}.`);
    this.name = 'ApiError';
    this.status = status;
    this.problem = problem ?? null;
    this.field = problem?.field ?? null;
  }
}

export function storedKey() {
  try {
    return sessionStorage.getItem(KEY_STORAGE);
  } catch {
    return null;
  }
}

function storeKey(key) {
  try {
    if (key) sessionStorage.setItem(KEY_STORAGE, key);
    else sessionStorage.removeItem(KEY_STORAGE);
  } catch {
    // Storage blocked: the key lives as long as nothing asks for it again.
  }
  for (const listener of keyListeners) listener(key);
}

/** Calls listener(key or null) whenever the kept key changes. */
export function onKeyChange(listener) {
  keyListeners.add(listener);
  return () => keyListeners.delete(listener);
}

export function forgetKey() {
  storeKey(null);
}

/** Resolves the next time a key is kept (for a stream that waits after the person dismissed the prompt). */
export function nextKey() {
  return new Promise((resolve) => {
    const stop = onKeyChange((key) => {
      if (key) {
        stop();
        resolve(key);
      }
    });
  });
}

/** fetch() with the key; on 401 asks for one and repeats. Throws ApiError(401) if the person declines. */
export async function apiFetch(path, init = {}) {
  for (;;) {
    const key = storedKey();
    const headers = new Headers(init.headers ?? {});
    if (key) headers.set('Authorization', `Bearer ${key}`);
    if (!headers.has('Accept')) headers.set('Accept', 'application/json');
    const response = await fetch(path, { cache: 'no-store', ...init, headers });
    if (response.status !== 401) return response;
    const problem = await readProblem(response);
    const current = storedKey();
    if (current && current !== key) continue; // A new key arrived while this request was out: try it.
    if (key) storeKey(null);
    await askForKey(key ? 'The server refused that key.' : null, problem);
  }
}

/** GET a JSON resource; ApiError for any error status. */
export async function getJson(path, init = {}) {
  const response = await apiFetch(path, init);
  if (!response.ok) throw new ApiError(response.status, await readProblem(response));
  return response.json();
}

/** Sends a request with an optional JSON body; returns { status, data } or throws ApiError. */
export async function send(method, path, body) {
  const init = { method };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers = { 'Content-Type': 'application/json' };
  }
  const response = await apiFetch(path, init);
  if (!response.ok) throw new ApiError(response.status, await readProblem(response));
  const text = await response.text();
  return { status: response.status, data: text ? JSON.parse(text) : null };
}

async function readProblem(response) {
  try {
    const text = await response.text();
    return text ? JSON.parse(text) : null;
  } catch {
    return null;
  }
}

/** Opens the key prompt at the person's request; resolves with the key, rejects if they cancel. */
export function requestKey() {
  return askForKey(null, null);
}

/** One dialog at a time, however many requests were refused; they all wait for it. */
function askForKey(error, problem) {
  prompt ??= new Promise((resolve, reject) => {
    const dialog = document.getElementById('key-dialog');
    const form = document.getElementById('key-form');
    const input = document.getElementById('key-input');
    const message = document.getElementById('key-error');
    const cancel = document.getElementById('key-cancel');
    let settled = false;

    const showError = (text) => {
      message.textContent = text ?? '';
      message.hidden = !text;
      input.setAttribute('aria-invalid', text ? 'true' : 'false');
    };
    const finish = (key) => {
      settled = true;
      form.removeEventListener('submit', onSubmit);
      dialog.removeEventListener('close', onClose);
      cancel.removeEventListener('click', onCancel);
      if (dialog.open) dialog.close();
      if (key) {
        storeKey(key);
        resolve(key);
      } else {
        reject(new ApiError(401, problem ?? { detail: 'This server needs an API key.' }));
      }
    };
    const onSubmit = (event) => {
      event.preventDefault();
      const key = input.value.trim();
      if (!key) {
        showError('Enter the API key.');
        input.focus();
        return;
      }
      finish(key);
    };
    const onClose = () => {
      if (!settled) finish(null);
    };
    const onCancel = () => finish(null);

    input.value = '';
    showError(error);
    form.addEventListener('submit', onSubmit);
    dialog.addEventListener('close', onClose);
    cancel.addEventListener('click', onCancel);
    dialog.showModal();
    input.focus();
  }).finally(() => {
    prompt = null;
  });
  return prompt;
}
