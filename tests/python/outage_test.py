#!/usr/bin/env python3
"""A training loop logs two metrics every step for --duration seconds (default
60) while the server is SIGKILLed and kept down for --down seconds (default
10), then frozen with SIGSTOP mid-batch and SIGKILLed, and restarted both
times. The stored series must equal exactly what was logged (every step, the
logged value, nothing twice), the counters must show the retries and no
loss, and log_metrics must never have waited for the network (its slowest
call is printed, and must stay below the client's request timeout).

usage: outage_test.py TMON_SERVER [--duration S] [--down S]"""
import argparse
import collections
import logging
import os
import statistics
import sys
import tempfile
import threading
import time

from tmon_testlib import Server

import tmon

REQUEST_TIMEOUT = 3.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("server")
    ap.add_argument("--duration", type=float, default=60.0)
    ap.add_argument("--down", type=float, default=10.0)
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(message)s")

    with tempfile.TemporaryDirectory() as tmp:
        srv = Server(args.server, tmp).start()
        mon = tmon.TrainingMonitor("outage", {"lr": 0.1}, srv.url, journal_dir=os.path.join(tmp, "journal"),
                                   request_timeout=REQUEST_TIMEOUT, system_interval=0)
        timeline = []

        def chaos():
            d = args.duration
            t0 = time.monotonic()

            def at(t):
                time.sleep(max(0.0, t0 + t - time.monotonic()))

            at(d * 0.1)
            srv.kill()
            timeline.append(f"{time.monotonic() - t0:5.1f}s SIGKILL, down for {args.down:.0f} s")
            at(d * 0.1 + args.down)
            srv.start()
            timeline.append(f"{time.monotonic() - t0:5.1f}s restarted")
            at(d * 0.6)
            srv.pause()  # requests in flight hang: the client times out mid-batch
            timeline.append(f"{time.monotonic() - t0:5.1f}s SIGSTOP")
            at(d * 0.6 + REQUEST_TIMEOUT + 1)
            srv.kill()
            timeline.append(f"{time.monotonic() - t0:5.1f}s SIGKILL while stopped")
            at(d * 0.6 + REQUEST_TIMEOUT + 3)
            srv.start()
            timeline.append(f"{time.monotonic() - t0:5.1f}s restarted")

        th = threading.Thread(target=chaos)
        th.start()
        costs = []
        bare_costs = []  # the least any queueing call costs in the same loop: dict copy, clock, deque append
        bare_q = collections.deque()
        logged = 0
        step = 0
        end = time.monotonic() + args.duration
        perf = time.perf_counter
        while time.monotonic() < end:
            metrics = {"loss": 1.0 / (step + 1), "acc": (step % 1000) / 1000.0}
            for which in ((0, 1) if step % 2 else (1, 0)):  # each goes first (cold) on every other step
                a = perf()
                if which == 0:
                    mon.log_metrics(metrics, step=step)
                    costs.append(perf() - a)
                else:
                    bare_q.append((step, time.time(), dict(metrics)))
                    bare_costs.append(perf() - a)
                    bare_q.popleft()
            logged += 1
            step += 1
            time.sleep(0.001)
        th.join()
        during = mon.counters
        assert mon.flush(timeout=60), f"not everything reached the server: {mon.counters}"
        mon.close()
        c = mon.counters

        for key, value_of in (("loss", lambda s: 1.0 / (s + 1)), ("acc", lambda s: (s % 1000) / 1000.0)):
            steps, values = srv.series(mon.run_id, key)
            assert len(steps) == logged, f"{key}: {len(steps)} stored, {logged} logged"
            assert steps == list(range(logged)), f"{key}: gap or duplicate, first bad index " \
                f"{next(i for i, s in enumerate(steps) if s != i)}"
            bad = [s for s, v in zip(steps, values) if v != value_of(s)]
            assert not bad, f"{key}: wrong values at steps {bad[:5]}"
        run = srv.get(f"/api/runs/{mon.run_id}")
        assert run["status"] == "completed", run["status"]
        assert c.sent == 2 * logged and c.dropped == 0 and c.queued == 0, c
        assert c.retries >= 2, f"the outages caused no retry: {c}"
        assert during.retries >= 2
        slowest = max(costs)
        assert slowest < REQUEST_TIMEOUT, f"log_metrics blocked for {slowest:.3f} s (the network's timeout)"
        srv.terminate()
    print("\n".join(timeline))
    print(f"outage_test: ok: {logged} steps x 2 keys over {args.duration:.0f} s, 2 outages; stored series equal "
          f"what was logged; retries {c.retries}; log_metrics median {statistics.median(costs) * 1e6:.2f} us, "
          f"p99 {sorted(costs)[int(len(costs) * 0.99)] * 1e6:.1f} us, slowest {slowest * 1e3:.2f} ms (a bare dict copy + "
          f"deque append in the same loop: median {statistics.median(bare_costs) * 1e6:.2f} us)")


if __name__ == "__main__":
    sys.exit(main())
