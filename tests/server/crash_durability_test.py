#!/usr/bin/env python3
"""kill -9 durability: several client threads post metrics to tmon-server
(sqlite) while it is SIGKILLed mid-ingestion; after a restart on the same file
every point whose POST got a 2xx must be there."""
import http.client
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time


def start(binary, db):
    proc = subprocess.Popen([binary, "--storage", "sqlite", "--db", db, "--port", "0", "--sample-ms", "0",
                             "--log-level", "warn"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = proc.stdout.readline()
    assert "http://" in line, f"no URL printed: {line!r}"
    hostport = line[line.index("http://") + 7:].split()[0].rstrip("/")
    host, port = hostport.rsplit(":", 1)
    return proc, host, int(port)


def request(host, port, method, path, body=None):
    c = http.client.HTTPConnection(host, port, timeout=30)
    c.request(method, path, json.dumps(body) if body is not None else None, {"Content-Type": "application/json"})
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, (json.loads(data) if data else None)


def writer(host, port, run_id, key, acked, stop):
    conn = http.client.HTTPConnection(host, port, timeout=30)
    step = 0
    while not stop.is_set():
        points = [{"step": step + i, "metrics": {key: float(step + i)}} for i in range(20)]
        try:
            conn.request("POST", f"/api/runs/{run_id}/metrics", json.dumps({"points": points}),
                         {"Content-Type": "application/json"})
            r = conn.getresponse()
            r.read()
        except (OSError, http.client.HTTPException):
            return  # the server died: this batch has no 2xx, so it promises nothing
        if 200 <= r.status < 300:
            acked.extend(p["step"] for p in points)
        step += 20


def main():
    binary = sys.argv[1]
    with tempfile.TemporaryDirectory() as tmp:
        db = os.path.join(tmp, "crash.db")
        proc, host, port = start(binary, db)
        status, run = request(host, port, "POST", "/api/runs", {"name": "crash"})
        assert status == 200
        run_id = run["id"]

        threads, acked, stop = [], {}, threading.Event()
        for t in range(4):
            key = f"w{t}"
            acked[key] = []
            th = threading.Thread(target=writer, args=(host, port, run_id, key, acked[key], stop))
            th.start()
            threads.append(th)
        deadline = time.time() + 60
        while sum(len(v) for v in acked.values()) < 4000 and time.time() < deadline:
            time.sleep(0.01)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        stop.set()
        for th in threads:
            th.join()
        total_acked = sum(len(v) for v in acked.values())
        assert total_acked > 0, "no write was acknowledged before the kill"

        proc, host, port = start(binary, db)
        try:
            for key, steps in acked.items():
                status, reply = request(host, port, "GET", f"/api/runs/{run_id}/metrics?keys={key}")
                assert status == 200, (status, reply)
                stored = set(reply["series"].get(key, {"steps": []})["steps"])
                missing = set(steps) - stored
                assert not missing, f"{len(missing)} acknowledged points of {key} lost, e.g. {sorted(missing)[:5]}"
        finally:
            proc.terminate()
            assert proc.wait(timeout=30) == 0
    print(f"crash_durability_test: ok ({total_acked} acknowledged points all survived kill -9)")


if __name__ == "__main__":
    main()
