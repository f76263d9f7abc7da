#!/usr/bin/env python3
"""With the server down the journal fills up to its cap; past it points are
dropped, and the drop count is exact: stored + dropped == logged, the stored
steps are exactly the ones logged before the cap was hit, and once the server
is back the run's event log says how many were dropped. The same holds when
the disk refuses the writes (a trainer process under RLIMIT_FSIZE: EFBIG).

usage: journal_cap_test.py TMON_SERVER"""
import logging
import os
import subprocess
import sys
import tempfile

from tmon_testlib import Server, child_env

import tmon

CAP = 64 << 10

# A trainer whose journal file may not grow past 100 kB: writes fail with EFBIG.
FSIZE_CHILD = r"""
import resource, signal, sys, tmon
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of death
mon = tmon.TrainingMonitor("fsize", None, sys.argv[1], journal_dir=sys.argv[2], system_interval=0,
                           request_timeout=1.0)
assert mon.sync()
resource.setrlimit(resource.RLIMIT_FSIZE, (100000, 100000))
for step in range(20000):
    mon.log_metrics({"loss": float(step)}, step=step)
    if step % 500 == 0:
        assert mon.sync()
assert mon.sync()
c = mon.counters
print("offline", c.dropped_cap, c.journaled_bytes, flush=True)
sys.stdin.readline()  # the server is up now
ok = mon.flush(60)
mon.close()
c = mon.counters
print("done", ok, c.dropped, c.sent, mon.run_id, flush=True)
"""


def main():
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    with tempfile.TemporaryDirectory() as tmp:
        srv = Server(sys.argv[1], tmp)  # not started: the trainer starts offline
        mon = tmon.TrainingMonitor("cap", None, srv.url, journal_dir=os.path.join(tmp, "j"), max_journal_bytes=CAP,
                                   system_interval=0, request_timeout=2.0)
        logged = 0
        for step in range(20000):
            mon.log_metrics({"loss": float(step), "acc": 0.5}, step=step)
            logged += 2
            if step % 500 == 0:
                assert mon.sync()  # the writer journals as training goes, not all at the end
        assert mon.sync()
        c = mon.counters
        assert c.dropped_cap > 0, f"the cap was never reached: {c}"
        assert c.journaled_bytes <= CAP, c
        assert not c.connected and c.retries >= 1, c
        dropped = c.dropped

        srv.start()
        assert mon.flush(timeout=60), mon.counters
        mon.close()
        c = mon.counters
        assert c.dropped == dropped, f"drops changed after the server came back: {dropped} -> {c.dropped}"
        steps, values = srv.series(mon.run_id, "loss")
        acc_steps, _ = srv.series(mon.run_id, "acc")
        stored = len(steps) + len(acc_steps)
        assert stored + c.dropped == logged, f"stored {stored} + dropped {c.dropped} != logged {logged}"
        assert steps == list(range(len(steps))) and acc_steps == steps, "the kept points are not the first ones"
        assert c.sent == stored, (c.sent, stored)
        evs = srv.events(mon.run_id, "points_dropped")
        if srv.has_route("POST", f"/api/runs/{mon.run_id}/events", {"type": "probe", "message": "x"}):
            assert len(evs) == 1, evs
            assert evs[0]["data"]["dropped_points"] == c.dropped, evs[0]
        else:
            print("journal_cap_test: note: this server has no POST /api/runs/{id}/events; overflow event not checked")
        srv.terminate()

        # The disk refuses: same accounting.
        srv2 = Server(sys.argv[1], tmp)
        p = subprocess.Popen([sys.executable, "-c", FSIZE_CHILD, srv2.url, os.path.join(tmp, "jf")],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                             env=child_env())
        lines = []
        for line in p.stdout:
            lines.append(line)
            if line.startswith("offline"):
                break
        assert lines and lines[-1].startswith("offline"), "".join(lines)
        fs_dropped, fs_bytes = map(int, lines[-1].split()[1:])
        assert fs_dropped > 0 and fs_bytes <= 100000, lines[-1]
        assert any("cannot write the journal" in l for l in lines), "".join(lines)
        srv2.start()
        rest, _ = p.communicate("go\n", timeout=120)
        done = rest.strip().splitlines()[-1].split()
        assert done[0] == "done" and done[1] == "True", rest
        fs_total_dropped, fs_sent, fs_run = int(done[2]), int(done[3]), done[4]
        steps, _ = srv2.series(fs_run, "loss")
        assert fs_total_dropped == fs_dropped and len(steps) + fs_dropped == 20000, (len(steps), fs_dropped)
        assert steps == list(range(len(steps))) and fs_sent == len(steps)
        evs = srv2.events(fs_run, "points_dropped")
        assert len(evs) == 1 and evs[0]["data"]["dropped_points"] == fs_dropped, evs
        srv2.terminate()
    print(f"journal_cap_test: ok: cap {CAP} bytes; {logged} values logged offline, {stored} stored, "
          f"{c.dropped} dropped (exact); with the disk refusing (EFBIG) {len(steps)} stored, {fs_dropped} dropped "
          f"(exact)")


if __name__ == "__main__":
    main()
