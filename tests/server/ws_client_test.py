#!/usr/bin/env python3
"""An independent WebSocket client (Debian's python3-websockets) against a real
tmon-server: subscribe, receive pushes for REST writes, ping/pong, errors that
keep the connection open, and the token check on the handshake."""
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import urllib.request

import websockets

TOKEN = "py-token"


def start_server(binary, db):
    proc = subprocess.Popen([binary, "--storage", "sqlite", "--db", db, "--port", "0", "--token", TOKEN,
                             "--sample-ms", "50"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = proc.stdout.readline()
    assert "http://" in line, f"no URL printed: {line!r}"
    url = line[line.index("http://"):].split()[0].rstrip("/")
    return proc, url


def rest(url, method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url + path, data=data, method=method,
                                 headers={"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"})
    with urllib.request.urlopen(req) as r:
        return r.status, json.loads(r.read())


async def next_of(ws, kind):
    while True:
        msg = json.loads(await asyncio.wait_for(ws.recv(), 15))
        if msg.get("type") == kind:
            return msg


async def scenario(url):
    ws_url = url.replace("http://", "ws://") + "/ws"
    try:
        async with websockets.connect(ws_url):
            raise AssertionError("handshake without the token must be refused")
    except websockets.exceptions.InvalidStatusCode as e:
        assert e.status_code == 401, e.status_code

    async with websockets.connect(f"{ws_url}?token={TOKEN}") as ws:
        await ws.send(json.dumps({"type": "ping"}))
        assert (await next_of(ws, "pong"))["type"] == "pong"

        await ws.send("this is not json")
        err = await next_of(ws, "error")
        assert err["message"], err

        await ws.send(json.dumps({"type": "subscribe", "run_id": "*"}))
        assert (await next_of(ws, "subscribed"))["run_id"] == "*"

        status, run = rest(url, "POST", "/api/runs", {"name": "py-ws", "total_steps": 10})
        assert status == 200
        created = await next_of(ws, "run_created")
        assert created["run_id"] == run["id"]

        status, reply = rest(url, "POST", f"/api/runs/{run['id']}/metrics",
                             {"points": [{"step": s, "metrics": {"loss": 1.0 / (s + 1)}} for s in range(5)]})
        assert status == 200 and reply["accepted"] == 5
        update = await next_of(ws, "metric_update")
        assert update["run_id"] == run["id"]
        assert update["step"] == 4 and abs(update["metrics"]["loss"] - 0.2) < 1e-12
        assert [p["step"] for p in update["points"]] == [0, 1, 2, 3, 4]
        assert update["dropped"] == 0

        system = await next_of(ws, "system_update")
        assert system["memory_total"] > 0

        rest(url, "PUT", f"/api/runs/{run['id']}", {"status": "completed"})
        change = await next_of(ws, "status_change")
        assert change["new_status"] == "completed" and change["old_status"] == "running"

        await ws.send(json.dumps({"type": "unsubscribe", "run_id": "*"}))
        assert (await next_of(ws, "unsubscribed"))["run_id"] == "*"


def main():
    binary = sys.argv[1]
    with tempfile.TemporaryDirectory() as tmp:
        proc, url = start_server(binary, os.path.join(tmp, "ws.db"))
        try:
            asyncio.run(scenario(url))
        finally:
            proc.terminate()
            assert proc.wait(timeout=30) == 0, "tmon-server did not exit cleanly on SIGTERM"
    print("ws_client_test: ok")


if __name__ == "__main__":
    main()
