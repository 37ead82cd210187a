#!/usr/bin/env python3
"""A TaskSystem worker in Python, standard library only (docs/workers.md explains the protocol).

It claims tasks from the server in a loop, runs a function per task type, keeps the task's lease alive while the
function runs (a heartbeat that also brings a stop back at once), then reports success or failure.

    TASKSYSTEM_URL=http://localhost:4000 python3 samples/workers/python/worker.py

Settings come from the environment: TASKSYSTEM_URL, TASKSYSTEM_API_KEY (when the server has keys), WORKER_NAME,
LEASE_SECONDS (how long the server waits for a heartbeat before it gives the task to another worker; default 30).
"""
import json
import os
import threading
import time
import urllib.error
import urllib.request

SERVER = os.environ.get("TASKSYSTEM_URL", "http://localhost:4000").rstrip("/")
API_KEY = os.environ.get("TASKSYSTEM_API_KEY")
WORKER = os.environ.get("WORKER_NAME", f"python-{os.getpid()}")
LEASE_SECONDS = float(os.environ.get("LEASE_SECONDS", "30"))


class Stopped(Exception):
    """The task was stopped (from the dashboard, or DELETE /tasks/{id}) or its lease was lost: give up on it."""


class PermanentError(Exception):
    """A failure that another attempt cannot fix: reported with retryable false."""


# One function per task type: it gets the payload and an event that is set when the task must stop.
def echo(payload, stop):
    """Waits payload["seconds"] (default 1), checking for a stop ten times a second, then returns the payload."""
    deadline = time.monotonic() + payload.get("seconds", 1)
    while time.monotonic() < deadline:
        if stop.wait(0.1):
            raise Stopped()
    return payload


def word_count(payload, stop):
    """Counts the words of payload["text"]."""
    if not isinstance(payload.get("text"), str):
        raise PermanentError('payload.text must be a string')
    return {"words": len(payload["text"].split())}


HANDLERS = {"echo": echo, "word-count": word_count}


def call(path, body, timeout):
    """POSTs JSON; returns (status, decoded answer). Errors come back as RFC 9457 problems: {"detail": ...}."""
    headers = {"Content-Type": "application/json"}
    if API_KEY:
        headers["Authorization"] = f"Bearer {API_KEY}"
    request = urllib.request.Request(SERVER + path, json.dumps(body).encode(), headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)
    except OSError as error:  # the server is down or unreachable: try again later
        return 0, {"detail": str(error)}


def keep_lease(task, stop, finished):
    """Renews the lease until the task finishes. Each heartbeat waits up to a third of the lease on the server and
    answers at once if the task is stopped, so a stop reaches the function within milliseconds."""
    while not finished.is_set():
        status, answer = call(f"/tasks/{task['id']}/heartbeat",
                              {"leaseToken": task["leaseToken"], "leaseSeconds": LEASE_SECONDS, "waitSeconds": LEASE_SECONDS / 3},
                              timeout=LEASE_SECONDS)
        if finished.is_set():
            return
        if status == 409 or status == 404 or (status == 200 and answer["stopRequested"]):
            stop.set()  # stopped, or the lease is lost: the task belongs to someone else now
            return
        if status != 200:
            time.sleep(1)  # the server is unreachable: the lease lasts a while yet, try again


def run(task):
    stop, finished = threading.Event(), threading.Event()
    threading.Thread(target=keep_lease, args=(task, stop, finished), daemon=True).start()
    try:
        result = HANDLERS[task["type"]](task["payload"], stop)
        path, body = "complete", {"leaseToken": task["leaseToken"], "result": result}
    except Stopped:
        path, body = "fail", {"leaseToken": task["leaseToken"], "error": "stopped", "retryable": False}
    except PermanentError as error:
        path, body = "fail", {"leaseToken": task["leaseToken"], "error": str(error), "retryable": False}
    except Exception as error:  # anything else may pass on another attempt
        path, body = "fail", {"leaseToken": task["leaseToken"], "error": f"{type(error).__name__}: {error}"}
    finally:
        finished.set()
    status, answer = call(f"/tasks/{task['id']}/{path}", body, timeout=30)
    outcome = answer["state"] if status == 200 else f"not recorded ({answer.get('reason', status)}: {answer['detail']})"
    print(f"task {task['id']} ({task['type']}) attempt {task['attempt']}: {outcome}", flush=True)


def main():
    print(f"worker {WORKER} claiming {', '.join(HANDLERS)} from {SERVER}", flush=True)
    while True:
        # A long poll: the answer comes as soon as a task is ready, or empty after waitSeconds.
        status, answer = call("/workers/claim",
                              {"worker": WORKER, "types": list(HANDLERS), "max": 1, "waitSeconds": 20, "leaseSeconds": LEASE_SECONDS},
                              timeout=30)
        if status != 200:
            print(f"claim failed ({status}): {answer['detail']}", flush=True)
            time.sleep(1)
            continue
        for task in answer["tasks"]:
            run(task)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        pass
