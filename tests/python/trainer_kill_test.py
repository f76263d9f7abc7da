#!/usr/bin/env python3
"""The trainer is SIGKILLed while the server is down, with its last record
torn in half on disk; restarted with the same run id it replays its journal
first (the torn record skipped with a warning), and the server ends up with
every step both processes logged, once.

usage: trainer_kill_test.py TMON_SERVER"""
import os
import signal
import subprocess
import sys
import tempfile

from tmon_testlib import HERE, Server, child_env, wait_until

import tmon.journal


def main():
    binary = sys.argv[1]
    child = os.path.join(HERE, "trainer_child.py")
    with tempfile.TemporaryDirectory() as tmp:
        srv = Server(binary, tmp).start()
        jdir = os.path.join(tmp, "journal")
        run_id = "run_" + os.urandom(6).hex()
        base = [sys.executable, child, "--url", srv.url, "--run-id", run_id, "--journal-dir", jdir]

        # 1: steps 0..1999 while the server is up, then the server dies and
        # steps 2000..4999 only reach the journal; the trainer is SIGKILLed.
        p = subprocess.Popen(base + ["--count", "2000", "--hold"], stdout=subprocess.PIPE, text=True,
                             env=child_env())
        assert p.stdout.readline().startswith("replayed 0")
        assert p.stdout.readline().strip() == "journaled 1999"
        wait_until(lambda: len(srv.series(run_id, "loss")[0]) == 2000, 30, "the first 2000 steps on the server")
        os.kill(p.pid, signal.SIGKILL)
        p.wait()
        srv.kill()
        p = subprocess.Popen(base + ["--start", "2000", "--count", "3000", "--hold",
                                    "--checkpoint-at", "3000"], stdout=subprocess.PIPE,
                             text=True, env=child_env())
        assert p.stdout.readline().startswith("replayed ")
        assert p.stdout.readline().strip() == "journaled 4999"
        os.kill(p.pid, signal.SIGKILL)  # killed while the server is down
        p.wait()

        # A crash mid-write leaves half a record at the end of the journal.
        jfile = os.path.join(jdir, run_id, "journal.bin")
        size = os.path.getsize(jfile)
        assert size > 0, "nothing journaled while the server was down"
        torn = tmon.journal.encode({"k": "m", "p": [[999999, 0.0, {"loss": 1.0}]]})
        with open(jfile, "rb") as f:
            backup = f.read()  # for a second replay of the same records below
        with open(jfile, "ab") as f:
            f.write(torn[: len(torn) // 2])

        # 2: server back, trainer restarted with the same run id: it replays the
        # journal, then logs 5000..5999 and completes.
        srv.start()
        out = subprocess.run(base + ["--start", "5000", "--count", "1000"], stdout=subprocess.PIPE, text=True,
                             env=child_env(), timeout=120).stdout
        assert "torn or corrupt record" in out, out
        replayed = int(out.split("replayed ", 1)[1].split()[0])
        assert replayed >= 2, f"the journal was not replayed: {out}"
        assert "flushed True" in out and "dropped 0" in out, out

        steps, values = srv.series(run_id, "loss")
        assert steps == list(range(6000)), f"{len(steps)} steps stored; missing " \
            f"{sorted(set(range(6000)) - set(steps))[:5]}, extra {sorted(set(steps) - set(range(6000)))[:5]}"
        assert values == [s * 0.5 for s in steps]
        run = srv.get(f"/api/runs/{run_id}")
        assert run["status"] == "completed", run
        assert not os.path.exists(jfile) or os.path.getsize(jfile) == 0

        # 3: the same journal replayed once more (as if the acks had been lost): the
        # checkpoint and the event, chosen ids, are stored once; the points stay as they are.
        with open(jfile, "wb") as f:
            f.write(backup)
        out = subprocess.run(base + ["--start", "6000", "--count", "1"], stdout=subprocess.PIPE, text=True,
                             env=child_env(), timeout=120).stdout
        assert "flushed True" in out and "dropped 0" in out, out
        cks = srv.get(f"/api/runs/{run_id}/checkpoints")["checkpoints"]
        assert [c["filepath"] for c in cks] == ["/tmp/ckpt_3000.pt"] and cks[0]["step"] == 3000, cks
        notes = srv.events(run_id, "note")
        assert len(notes) == 1 and notes[0]["data"] == {"step": 3000}, notes
        assert len(srv.events(run_id, "checkpoint_saved")) == 1
        steps, values = srv.series(run_id, "loss")
        assert steps == list(range(6001)) and values == [s * 0.5 for s in steps]
        srv.terminate()
    print(f"trainer_kill_test: ok: trainer SIGKILLed with the server down and a torn record; "
          f"{replayed} journal records replayed, 6000/6000 steps stored once; a second replay stored its "
          f"checkpoint and event once")


if __name__ == "__main__":
    main()
