"""Shared helpers for the Python client's tests: a real tmon-server process on
a fixed loopback port (so it can be SIGKILLed and restarted where the client
expects it) and a plain http.client for checking what the server stored."""
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
PYTHON_DIR = os.path.join(ROOT, "python")
if PYTHON_DIR not in sys.path:
    sys.path.insert(0, PYTHON_DIR)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Server:
    """tmon-server on 127.0.0.1:<port> with a sqlite file that outlives it."""

    def __init__(self, binary, tmp, *extra):
        self.binary = binary
        self.db = os.path.join(tmp, "tmon.db")
        self.port = free_port()
        self.extra = list(extra)
        self.proc = None
        self.log = open(os.path.join(tmp, "server.log"), "ab")

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self):
        self.proc = subprocess.Popen([self.binary, "--storage", "sqlite", "--db", self.db, "--port", str(self.port),
                                      "--sample-ms", "0", "--log-level", "warn", *self.extra],
                                     stdout=subprocess.PIPE, stderr=self.log, text=True)
        line = self.proc.stdout.readline()
        if "http://" not in line:
            self.proc.wait(timeout=10)
            with open(self.log.name, "rb") as f:
                tail = f.read()[-2000:].decode("utf-8", "replace")
            raise RuntimeError(f"tmon-server did not start (exit {self.proc.returncode}): {line!r}\n{tail}")
        return self

    def kill(self):
        """SIGKILL: no shutdown, no flush, connections cut."""
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self.stopped = False
        self.proc = None

    stopped = False

    def pause(self):
        """SIGSTOP: the port still accepts connections, nothing answers."""
        os.kill(self.proc.pid, signal.SIGSTOP)
        self.stopped = True

    def resume(self):
        os.kill(self.proc.pid, signal.SIGCONT)
        self.stopped = False

    def terminate(self):
        if self.proc is not None and self.proc.poll() is None:
            if self.stopped:
                self.resume()
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def request(self, method, path, body=None, timeout=30):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            c.request(method, path, json.dumps(body) if body is not None else None,
                      {"Content-Type": "application/json"})
            r = c.getresponse()
            data = r.read()
        finally:
            c.close()
        try:
            return r.status, (json.loads(data) if data else None)
        except ValueError:
            return r.status, data.decode("utf-8", "replace")

    def get(self, path):
        status, body = self.request("GET", path)
        assert status == 200, f"GET {path}: {status} {body}"
        return body

    def series(self, run_id, key):
        s = self.get(f"/api/runs/{run_id}/metrics?keys={key}")["series"].get(key)
        return (s["steps"], s["values"]) if s else ([], [])

    def events(self, run_id, type_=None):
        evs = self.get(f"/api/runs/{run_id}/events?limit=1000")["events"]
        return [e for e in evs if type_ is None or e["type"] == type_]

    def has_route(self, method, path, body=None):
        """False when the server answers 404 no route / 405 (an older server)."""
        status, reply = self.request(method, path, body)
        if status == 405:
            return False
        if status == 404 and isinstance(reply, dict) and "no route" in str(reply.get("detail", "")):
            return False
        return True


def wait_until(pred, timeout, what, interval=0.1):
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


def child_env(**extra):
    env = dict(os.environ)
    env["PYTHONPATH"] = PYTHON_DIR + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.update({k: str(v) for k, v in extra.items()})
    return env
