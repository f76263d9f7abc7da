#!/usr/bin/env python3
"""Cost of TrainingMonitor.log_metrics() on the training thread, against the
baseline of a synchronous urllib POST per step, in the same run, against the
same tmon-server (started here on a free loopback port).

usage: python3 benchmarks/python_log_cost.py --server build/examples/tmon-server [--calls 200000]
       python3 benchmarks/python_log_cost.py --url http://127.0.0.1:8000

Prints the median and p99 per call of each, log_metrics with the server down
too, and the ratio of the medians. Target: log_metrics median <= 5 us."""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
import tmon  # noqa: E402


def percentile(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * q))]


def time_log_metrics(url, calls, journal_dir, close_timeout=60.0):
    mon = tmon.TrainingMonitor("bench-log", {"bench": True}, url, journal_dir=journal_dir, system_interval=0,
                               request_timeout=1.0, close_timeout=close_timeout)
    perf = time.perf_counter
    costs = [0.0] * calls
    for step in range(calls):
        m = {"loss": 1.0 / (step + 1), "acc": 0.5}
        a = perf()
        mon.log_metrics(m, step=step)
        costs[step] = perf() - a
    sent_ok = mon.flush(close_timeout) and mon.counters.sent == 2 * calls
    mon.close()
    return costs, mon.counters, sent_ok


def time_spaced(url, calls, journal_dir):
    """log_metrics with 1 ms of sleep between calls (caches and CPU cold, as
    in a loop doing real work), against the least any queueing call can do
    in the same conditions: copy the dict, read the clock, append to a deque."""
    import collections
    q = collections.deque()

    def bare(metrics, step):
        q.append((step, time.time(), dict(metrics)))

    mon = tmon.TrainingMonitor("bench-spaced", None, url, journal_dir=journal_dir, system_interval=0)
    perf = time.perf_counter
    out = {}
    for name, fn in (("bare", bare), ("log_metrics", mon.log_metrics)):
        costs = []
        for step in range(calls):
            m = {"loss": 1.0 / (step + 1), "acc": 0.5}
            a = perf()
            fn(m, step)
            costs.append(perf() - a)
            time.sleep(0.001)
        out[name] = costs
    mon.close()
    return out


def time_urllib(url, run_id, calls):
    costs = []
    for step in range(calls):
        body = json.dumps({"step": step, "metrics": {"loss": 1.0 / (step + 1), "acc": 0.5}}).encode()
        req = urllib.request.Request(f"{url}/api/runs/{run_id}/metrics", data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
        a = time.perf_counter()
        with urllib.request.urlopen(req) as r:
            r.read()
        costs.append(time.perf_counter() - a)
    return costs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--server", help="tmon-server binary to start on a free port")
    ap.add_argument("--url", help="an already running server")
    ap.add_argument("--calls", type=int, default=200000)
    ap.add_argument("--posts", type=int, default=2000)
    args = ap.parse_args()
    if not args.server and not args.url:
        ap.error("give --server BINARY or --url URL")
    tmp = tempfile.mkdtemp(prefix="tmon-bench-")
    proc = None
    try:
        url = args.url
        if args.server:
            proc = subprocess.Popen([args.server, "--storage", "sqlite", "--db", os.path.join(tmp, "b.db"), "--port",
                                     "0", "--sample-ms", "0", "--log-level", "warn"], stdout=subprocess.PIPE,
                                    stderr=subprocess.DEVNULL, text=True)
            line = proc.stdout.readline()
            url = "http://" + line[line.index("http://") + 7:].split()[0].rstrip("/")

        costs, c, ok = time_log_metrics(url, args.calls, os.path.join(tmp, "j"))
        with urllib.request.urlopen(urllib.request.Request(
                f"{url}/api/runs", data=json.dumps({"name": "bench-urllib"}).encode(),
                headers={"Content-Type": "application/json"})) as r:
            run_id = json.load(r)["id"]
        posts = time_urllib(url, run_id, args.posts)
        spaced = time_spaced(url, 3000, os.path.join(tmp, "j"))
        down, c_down, _ = time_log_metrics("http://127.0.0.1:9", args.calls // 4, os.path.join(tmp, "j"), close_timeout=0)

        med, med_post = statistics.median(costs), statistics.median(posts)
        print(f"log_metrics (server up, sender busy): median {med * 1e6:.2f} us, p99 {percentile(costs, 0.99) * 1e6:.2f} us, "
              f"max {max(costs) * 1e3:.2f} ms over {len(costs)} calls; all sent: {ok} ({c.sent} values)")
        print(f"log_metrics (server down, journaling): median {statistics.median(down) * 1e6:.2f} us, "
              f"p99 {percentile(down, 0.99) * 1e6:.2f} us, max {max(down) * 1e3:.2f} ms over {len(down)} calls")
        print(f"log_metrics with 1 ms sleeps between calls: median {statistics.median(spaced['log_metrics']) * 1e6:.2f} us; "
              f"a bare dict copy + deque append in the same conditions: {statistics.median(spaced['bare']) * 1e6:.2f} us")
        print(f"urllib POST per step (baseline): median {med_post * 1e6:.1f} us, p99 {percentile(posts, 0.99) * 1e6:.1f} us "
              f"over {len(posts)} posts")
        print(f"ratio: log_metrics is {med_post / med:.0f}x cheaper than a synchronous POST per step "
              f"(target median <= 5 us: {'met' if med <= 5e-6 else 'NOT met'})")
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
