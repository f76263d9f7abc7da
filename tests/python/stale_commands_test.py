#!/usr/bin/env python3
"""Liveness and commands, against tmon-server --stale-after 2:
- heartbeats (every 0.5 s here) keep an idle trainer's run from going stale,
  its system samples are stored per host/rank, and the run lists the host;
- a SIGKILLed trainer's run turns stale (run field + run_stale event), and the
  first write of a restarted trainer with the same run id clears it (run_alive);
- commands from REST reach the training loop through poll_commands(): a custom
  one with its payload, then the dashboard's STOP (PUT status cancelled); the
  loop stops, the run stays cancelled, and each ack is in the event log.

usage: stale_commands_test.py TMON_SERVER"""
import logging
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time

from tmon_testlib import HERE, Server, child_env, wait_until

import tmon


def main():
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    with tempfile.TemporaryDirectory() as tmp:
        srv = Server(sys.argv[1], tmp, "--stale-after", "2").start()
        jdir = os.path.join(tmp, "j")

        # -- heartbeats and system samples ------------------------------------------------
        mon = tmon.TrainingMonitor("alive", None, srv.url, journal_dir=jdir, heartbeat_interval=0.5,
                                   system_interval=0.5, command_interval=0.5)
        mon.log_metrics({"loss": 1.0}, step=0)
        assert mon.flush(10)
        end = time.monotonic() + 5
        while time.monotonic() < end:
            run = srv.get(f"/api/runs/{mon.run_id}")
            assert run.get("stale") is False, f"an idle trainer sending heartbeats went stale: {run}"
            time.sleep(0.25)
        assert run.get("last_seen"), run
        host = tmon.transport.default_host_name()
        assert any(h["host"] == host and h["rank"] == 0 for h in run.get("hosts", [])), run.get("hosts")
        samples = srv.get(f"/api/runs/{mon.run_id}/system")["samples"]
        assert len(samples) >= 3, samples
        assert all(s["host"] == host and s["rank"] == 0 for s in samples), samples[:2]
        assert "cpu_percent" in samples[-1] and "memory_used" in samples[-1] and "process_rss" in samples[-1]
        mon.close()
        assert mon.counters.dropped == 0 and mon.counters.dropped_records == 0, mon.counters

        # -- two ranks of one run on two hosts: metrics from rank 0, samples from both --------
        r0 = tmon.TrainingMonitor("ranks", None, srv.url, journal_dir=jdir, host="node-a", rank=0,
                                  system_interval=0.3)
        r1 = tmon.TrainingMonitor("ranks", None, srv.url, journal_dir=jdir, host="node-b", rank=1,
                                  run_id=r0.run_id, system_interval=0.3)
        for step in range(20):
            r0.log_metrics({"loss": float(step)}, step=step)
            r1.log_metrics({"loss": -1.0, "rank1_only": 1.0}, step=step)  # not rank 0: ignored
        time.sleep(1.5)
        r1.close()
        r0.close()
        assert srv.series(r0.run_id, "loss") == (list(range(20)), [float(s) for s in range(20)])
        assert srv.get(f"/api/runs/{r0.run_id}/metrics/keys")["keys"] == ["loss"]
        by_host = {}
        for smp in srv.get(f"/api/runs/{r0.run_id}/system")["samples"]:
            by_host.setdefault((smp["host"], smp["rank"]), 0)
            by_host[(smp["host"], smp["rank"])] += 1
        assert set(by_host) == {("node-a", 0), ("node-b", 1)} and min(by_host.values()) >= 2, by_host
        run = srv.get(f"/api/runs/{r0.run_id}")
        assert [(h["host"], h["rank"]) for h in run["hosts"]] == [("node-a", 0), ("node-b", 1)], run["hosts"]
        assert run["status"] == "completed", run["status"]

        # -- a killed trainer goes stale, a restarted one is alive again ----------------------
        run_id = "run_" + os.urandom(6).hex()
        base = [sys.executable, os.path.join(HERE, "trainer_child.py"), "--url", srv.url, "--run-id", run_id,
                "--journal-dir", jdir, "--heartbeat", "0.5"]
        p = subprocess.Popen(base + ["--count", "100", "--hold"], stdout=subprocess.PIPE, text=True,
                             env=child_env())
        assert p.stdout.readline().startswith("replayed")
        assert p.stdout.readline().strip() == "journaled 99"
        wait_until(lambda: len(srv.series(run_id, "loss")[0]) == 100, 20, "the trainer's steps")
        time.sleep(3)  # alive: heartbeats
        assert srv.get(f"/api/runs/{run_id}")["stale"] is False
        os.kill(p.pid, signal.SIGKILL)
        p.wait()
        t0 = time.monotonic()
        wait_until(lambda: srv.get(f"/api/runs/{run_id}")["stale"], 30, "the killed trainer's run to turn stale")
        stale_after = time.monotonic() - t0
        assert srv.get(f"/api/runs/{run_id}")["status"] == "running"  # stale is not failed
        assert srv.events(run_id, "run_stale"), srv.events(run_id)
        out = subprocess.run(base + ["--start", "100", "--count", "100"], stdout=subprocess.PIPE, text=True,
                             env=child_env(), timeout=60).stdout
        assert "flushed True" in out, out
        assert srv.events(run_id, "run_alive"), [e["type"] for e in srv.events(run_id)]
        assert srv.series(run_id, "loss")[0] == list(range(200))

        # -- commands from REST reach the loop --------------------------------------------------
        mon = tmon.TrainingMonitor("commands", None, srv.url, journal_dir=jdir, command_interval=0.2,
                                   system_interval=0)
        assert mon.flush(10)

        def operator():
            time.sleep(1)
            st, body = srv.request("POST", f"/api/runs/{mon.run_id}/commands",
                                   {"type": "eval_now", "payload": {"split": "val"}})
            assert st == 202, (st, body)
            time.sleep(1)
            st, body = srv.request("PUT", f"/api/runs/{mon.run_id}", {"status": "cancelled"})
            assert st == 200, (st, body)

        th = threading.Thread(target=operator)
        th.start()
        got = []
        step = 0
        deadline = time.monotonic() + 30
        while not mon.stop_requested and time.monotonic() < deadline:
            mon.log_metrics({"loss": 1.0 / (step + 1)}, step=step)
            got += mon.poll_commands()
            step += 1
            time.sleep(0.005)
        th.join()
        assert mon.stop_requested, f"no stop reached the loop; commands seen: {got}"
        types = [c.type for c in got]
        assert types == ["eval_now", "stop"], types
        assert got[0].payload == {"split": "val"}, got[0]
        mon.close()
        run = srv.get(f"/api/runs/{mon.run_id}")
        assert run["status"] == "cancelled", run["status"]
        acks = wait_until(lambda: srv.events(mon.run_id, "command_acknowledged") if
                          len(srv.events(mon.run_id, "command_acknowledged")) == 2 else None, 10, "two acks")
        assert sorted(a["data"]["command_type"] for a in acks) == ["eval_now", "stop"], acks
        assert all(a["data"]["status"] == "ok" and a["data"]["rank"] == 0 for a in acks), acks
        srv.terminate()
    print(f"stale_commands_test: ok: heartbeats kept an idle run alive; two ranks on two hosts reported one run; a killed trainer's run went stale "
          f"{stale_after:.1f} s after the kill and came back alive; eval_now and stop reached the loop at step "
          f"{step}, both acknowledged in the event log, the run stayed cancelled")


if __name__ == "__main__":
    main()
