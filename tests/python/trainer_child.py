#!/usr/bin/env python3
"""A trainer process for the tests: logs `loss` = step * 0.5 for steps
[--start, --start + --count), then either waits until the steps are in its
journal, prints "journaled <last step>" and sleeps until killed (--hold), or
closes the monitor (completed) and prints its counters."""
import argparse
import logging
import sys
import time

import tmon

ap = argparse.ArgumentParser()
ap.add_argument("--url", required=True)
ap.add_argument("--run-id", required=True)
ap.add_argument("--journal-dir", required=True)
ap.add_argument("--start", type=int, default=0)
ap.add_argument("--count", type=int, default=1000)
ap.add_argument("--hold", action="store_true")
ap.add_argument("--heartbeat", type=float, default=10.0)
ap.add_argument("--checkpoint-at", type=int, default=None, help="save a checkpoint and log an event at this step")
args = ap.parse_args()
logging.basicConfig(level=logging.WARNING, format="%(message)s", stream=sys.stdout)

mon = tmon.TrainingMonitor("trainer", {"lr": 0.1}, args.url, run_id=args.run_id, journal_dir=args.journal_dir,
                           heartbeat_interval=args.heartbeat, system_interval=1.0, request_timeout=2.0,
                           close_timeout=30.0)
print(f"replayed {mon.replayed_records}", flush=True)
for step in range(args.start, args.start + args.count):
    mon.log_metrics({"loss": step * 0.5}, step=step)
    if step == args.checkpoint_at:
        mon.save_checkpoint(f"/tmp/ckpt_{step}.pt", {"loss": step * 0.5}, is_best=True)
        mon.log_event("note", f"checkpoint at step {step}", {"step": step})
    if step % 100 == 0:
        time.sleep(0.01)
if args.hold:
    assert mon.sync(timeout=30)
    print(f"journaled {args.start + args.count - 1}", flush=True)
    while True:
        time.sleep(1)
ok = mon.flush(timeout=30)
mon.close()
c = mon.counters
print(f"flushed {ok} sent {c.sent} dropped {c.dropped} retries {c.retries}", flush=True)
