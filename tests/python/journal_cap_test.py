#!/usr/bin/env python3
"""With the server down the journal fills up to its cap; past it points are
dropped, and the drop count is exact: stored + dropped == logged, the stored
steps are exactly the ones logged before the cap was hit, and once the server
is back the run's event log says how many were dropped.

usage: journal_cap_test.py TMON_SERVER"""
import logging
import os
import sys
import tempfile

from tmon_testlib import Server, wait_until

import tmon

CAP = 64 << 10


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
    print(f"journal_cap_test: ok: cap {CAP} bytes; {logged} values logged offline, {stored} stored, "
          f"{c.dropped} dropped (exact)")


if __name__ == "__main__":
    main()
