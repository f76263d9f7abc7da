#!/usr/bin/env python3
"""Liveness against the real tmon-server binary (python3 standard library and
python3-websockets): with --stale-after 2 a run whose trainer goes silent turns
stale (run object, run_stale event, WS message), the next trainer write clears
it (run_alive, WS stale:false); with --mark-stale-interrupted it is interrupted
instead. Also a per-run system sample reaching the run's WS subscribers."""
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request

import websockets

TRAINER = {"X-Tmon-Host": "node-1", "X-Tmon-Rank": "0"}


def start_server(binary, db, *extra):
    proc = subprocess.Popen([binary, "--storage", "sqlite", "--db", db, "--port", "0", "--sample-ms", "0",
                             "--stale-after", "2", *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = proc.stdout.readline()
    assert "http://" in line, f"no URL printed: {line!r}"
    url = line[line.index("http://"):].split()[0].rstrip("/")
    return proc, url


def rest(url, method, path, body=None, headers=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url + path, data=data, method=method,
                                 headers={"Content-Type": "application/json", **(headers or {})})
    with urllib.request.urlopen(req) as r:
        return r.status, json.loads(r.read())


def events(url, run_id, kind):
    _, body = rest(url, "GET", f"/api/runs/{run_id}/events?limit=1000")
    return [e for e in body["events"] if e["type"] == kind]


def wait_for(what, check, within=20):
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        got = check()
        if got:
            return got
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


async def next_of(ws, kind, within=20):
    while True:
        msg = json.loads(await asyncio.wait_for(ws.recv(), within))
        if msg.get("type") == kind:
            return msg


async def stale_scenario(url):
    async with websockets.connect(url.replace("http://", "ws://") + "/ws") as ws:
        await ws.send(json.dumps({"type": "subscribe", "run_id": "*"}))
        await next_of(ws, "subscribed")
        status, run = rest(url, "POST", "/api/runs", {"name": "py-stale", "id": "run_py_stale"}, TRAINER)
        assert status == 200 and run["stale"] is False and run["last_seen"], run
        status, hb = rest(url, "POST", f"/api/runs/{run['id']}/heartbeat", {}, TRAINER)
        assert status == 200 and hb["stale"] is False, hb

        status, reply = rest(url, "POST", f"/api/runs/{run['id']}/system",
                             {"timestamp": time.time(), "cpu_percent": 33.0, "gpus": []}, TRAINER)
        assert status == 200 and reply["accepted"] == 1, reply
        sample = await next_of(ws, "system")
        assert sample["run_id"] == run["id"] and sample["sample"]["host"] == "node-1", sample
        assert sample["sample"]["cpu_percent"] == 33.0

        stale = await next_of(ws, "run_stale")  # about 2 s of silence
        assert stale["run_id"] == run["id"] and stale["stale"] is True and stale["last_seen"], stale
        _, now = rest(url, "GET", f"/api/runs/{run['id']}")
        assert now["stale"] is True and now["status"] == "running", now
        assert now["hosts"] == [{"host": "node-1", "rank": 0, "last_seen": now["hosts"][0]["last_seen"]}], now
        found = events(url, run["id"], "run_stale")
        assert len(found) == 1 and "no report from the trainer for" in found[0]["message"], found

        rest(url, "POST", f"/api/runs/{run['id']}/heartbeat", {}, TRAINER)
        alive = await next_of(ws, "run_stale")
        assert alive["stale"] is False, alive
        _, now = rest(url, "GET", f"/api/runs/{run['id']}")
        assert now["stale"] is False, now
        assert len(events(url, run["id"], "run_alive")) == 1


def mark_interrupted_scenario(url):
    status, run = rest(url, "POST", "/api/runs", {"name": "py-interrupted"}, TRAINER)
    assert status == 200
    wait_for("the status interrupted",
             lambda: rest(url, "GET", f"/api/runs/{run['id']}")[1]["status"] == "interrupted")
    changed = events(url, run["id"], "status_changed")
    assert len(changed) == 1 and changed[0]["data"]["new_status"] == "interrupted", changed
    assert events(url, run["id"], "run_stale") == []


def run_server(binary, tmp, name, scenario, *extra):
    proc, url = start_server(binary, os.path.join(tmp, name), *extra)
    try:
        scenario(url)
    finally:
        proc.terminate()
        assert proc.wait(timeout=30) == 0, "tmon-server did not exit cleanly on SIGTERM"


def main():
    binary = sys.argv[1]
    with tempfile.TemporaryDirectory() as tmp:
        run_server(binary, tmp, "stale.db", lambda url: asyncio.run(stale_scenario(url)))
        run_server(binary, tmp, "interrupted.db", mark_interrupted_scenario, "--mark-stale-interrupted")
    print("stale_test: ok")


if __name__ == "__main__":
    main()
