"""Two background threads behind TrainingMonitor:

- the writer drains the in-memory queue that log_metrics() appends to (no
  lock, no I/O on the training thread) into the on-disk journal every few ms;
- the sender posts what the journal holds, batched (every 1 s or 4096 values),
  over one keep-alive connection, and cuts it from the journal once the
  server answered 2xx. Connection errors, timeouts, 5xx, 408 and 429 back off
  (1 s doubling to 30 s, +-25 % jitter, never sooner than the server's
  Retry-After) and retry
  the same records: every write is idempotent, so a record sent twice is
  stored once. It also sends heartbeats, system samples and command acks,
  and polls the run's commands.
"""
import collections
import json
import logging
import math
import os
import random
import threading
import time

from .journal import encode, frame
from .transport import NETWORK_ERRORS

log = logging.getLogger("tmon")

_SMALL_RECORD = 64 << 10  # control records this small may pass the journal cap
# 401/403 are not bad records but a wrong or missing token: keep them and retry.
_RETRY_STATUSES = (401, 403, 408, 429)
_KEY_BYTES = 256  # the server's default key_bytes limit


def _metric_payload(payload):
    nl = payload.index(b"\n")
    return int(payload[1:nl]), payload[nl + 1:]


class _Retry(Exception):
    def __init__(self, reason, retry_after=None):
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


def _retry_after(headers):
    value = headers.get("Retry-After") if headers is not None else None
    if not value:
        return None
    try:
        return max(0.0, min(float(value), 300.0))
    except ValueError:
        return None


class Options:
    """The sender's knobs (TrainingMonitor passes its keyword arguments)."""

    def __init__(self, batch_size=4096, flush_interval=1.0, heartbeat_interval=10.0, command_interval=2.0,
                 system_interval=10.0, backoff_initial=1.0, backoff_max=30.0, writer_interval=0.02):
        self.batch_size = int(batch_size)
        self.flush_interval = float(flush_interval)
        self.heartbeat_interval = float(heartbeat_interval)
        self.command_interval = float(command_interval)
        self.system_interval = float(system_interval)
        self.backoff_initial = float(backoff_initial)
        self.backoff_max = float(backoff_max)
        self.writer_interval = float(writer_interval)


class Sender:
    def __init__(self, run_id, transport, journal, queue, options, sampler=None, command_file=None,
                 send_metrics=True):
        self.run_id = run_id
        self.transport = transport
        self.journal = journal
        self.queue = queue  # collections.deque filled by the training thread
        self.opt = options
        self.sampler = sampler
        self.command_file = command_file
        self.send_metrics = send_metrics

        # counters (each written by one thread only; read as a snapshot)
        self.sent = 0
        self.journaled_values = 0  # written by the writer; the sender batches on it
        self.requests = 0
        self.retries = 0
        self.dropped_cap = 0
        self.dropped_invalid = 0
        self.dropped_rejected = 0
        self.dropped_records = 0
        self.last_error = None
        self.connected = False
        self.run_ready = False
        self.run_status = None

        self.commands = collections.deque()  # polled, not yet handed to the loop
        self.acks = collections.deque()  # (command_id, status, message)
        self.last_command_id = self._load_last_command_id()
        self._system = collections.deque(maxlen=360)

        self._overflow_pending = 0
        self._overflow_warned = False
        self._disk_error = None  # the last journal write error while points are being dropped
        self._warned = set()
        self._wake = threading.Event()
        self._stop_writer = threading.Event()
        self._stop_sender = threading.Event()
        self._stop_deadline = None
        self._writer_done = threading.Event()
        self._flush_requested = False
        self._idle = threading.Condition()
        self._drain_lock = threading.Lock()
        self._writer = threading.Thread(target=self._write_loop, name="tmon-journal", daemon=True)
        self._sender = threading.Thread(target=self._send_loop, name="tmon-sender", daemon=True)

    def start(self):
        self._writer.start()
        self._sender.start()

    # ---- commands' last id survives a restart of the trainer -------------------------
    def _load_last_command_id(self):
        if not self.command_file:
            return 0
        try:
            with open(self.command_file) as f:
                return int(f.read().strip() or 0)
        except (OSError, ValueError):
            return 0

    def _store_last_command_id(self):
        if not self.command_file:
            return
        tmp = self.command_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(str(self.last_command_id))
        os.replace(tmp, self.command_file)

    def _warn_once(self, key, msg, *args):
        if key not in self._warned:
            self._warned.add(key)
            log.warning(msg, *args)

    # ---- writer thread: queue -> journal ------------------------------------------
    def _write_loop(self):
        try:
            while True:
                stopping = self._stop_writer.is_set()
                try:
                    self._drain_queue()
                except Exception as e:  # e.g. the disk is full: keep the thread, say it once
                    self.last_error = f"journal: {type(e).__name__}: {e}"
                    self._warn_once(("writer", type(e).__name__), "tmon: cannot write the journal %s: %s",
                                    self.journal.path, e)
                if stopping:
                    break
                self._stop_writer.wait(self.opt.writer_interval)
        finally:
            if self._overflow_pending:
                self._write_overflow_event()
            self._writer_done.set()
            self._wake.set()

    def _drain_queue(self):
        with self._drain_lock:
            self._drain_queue_locked()

    def _drain_queue_locked(self):
        q = self.queue
        points = []
        values = 0
        wrote = False
        while True:
            try:
                item = q.popleft()
            except IndexError:
                break
            if type(item) is tuple:
                step, ts, metrics = item
                clean = {}
                for k, v in metrics.items():
                    try:
                        f = float(v)
                    except (TypeError, ValueError):
                        f = math.nan
                    if (not isinstance(k, str) or not k or len(k) > 64 and len(k.encode("utf-8")) > _KEY_BYTES
                            or math.isnan(f) or math.isinf(f)):
                        self.dropped_invalid += 1
                        self._warn_once(("invalid", k), "tmon: metric %r at step %d: not a finite number (%r) or "
                                        "not a key of 1-%d bytes; dropped and counted (further ones for this key "
                                        "are counted silently)",
                                        k, step, v, _KEY_BYTES)
                        continue
                    clean[k] = f
                if clean:
                    points.append({"step": step, "timestamp": ts, "metrics": clean})
                    values += len(clean)
                if values >= self.opt.batch_size:
                    self._append_points(points, values)
                    points, values, wrote = [], 0, True
            else:
                if points:
                    self._append_points(points, values)
                    points, values = [], 0
                self._append_record(item)
                wrote = True
        if points:
            self._append_points(points, values)
            wrote = True
        if wrote:
            self._wake.set()

    def _journal_append(self, data, force=False):
        try:
            return self.journal.append(data, force)
        except OSError as e:  # a full or failing disk: the record is lost, counted like the cap's
            self.last_error = f"journal: {e}"
            self._disk_error = str(e)
            self._warn_once(("journal-io", e.errno), "tmon: cannot write the journal %s (%s); records are "
                            "dropped and counted until it works again", self.journal.path, e)
            return False

    def _append_points(self, points, values):
        text = json.dumps(points, separators=(",", ":"))[1:-1]  # values are finite floats: no allow_nan issue
        if not self._journal_append(frame(b"m%d\n" % values + text.encode("utf-8"))):
            self._drop_for_cap(values)
            return
        self.journaled_values += values
        self._after_successful_append()

    def _append_record(self, rec):
        data = encode(rec)
        if not self._journal_append(data, force=len(data) <= _SMALL_RECORD and rec["k"] != "l"):
            self.dropped_records += 1
            self._drop_for_cap(0)
            return
        self._after_successful_append()

    def _drop_for_cap(self, values):
        self.dropped_cap += values
        self._overflow_pending += values
        if self._disk_error is None and not self._overflow_warned:
            self._overflow_warned = True
            log.warning("tmon: journal %s reached its cap of %d bytes (server unreachable for a while): new "
                        "points are dropped and counted until the server catches up", self.journal.path,
                        self.journal.max_bytes)

    def _after_successful_append(self):
        if self._overflow_pending and self.journal.pending_bytes() < self.journal.max_bytes // 2:
            self._write_overflow_event()

    def _write_overflow_event(self):
        n = self._overflow_pending
        cause = (f"the local journal could not be written ({self._disk_error})" if self._disk_error else
                 f"the local journal reached its cap of {self.journal.max_bytes / (1 << 20):g} MiB while the "
                 f"server was unreachable")
        self._overflow_pending = 0
        self._overflow_warned = False
        self._disk_error = None
        # Same event as the C++ client's, so the dashboard shows both alike.
        ev = {"k": "e", "b": {"id": "evt_" + os.urandom(8).hex(), "type": "points_dropped",
                               "message": f"{n} points were dropped: {cause}",
                               "data": {"dropped_points": n, "journal_max_bytes": self.journal.max_bytes}}}
        self._journal_append(encode(ev), force=True)
        log.warning("tmon: %d points were dropped: %s", n, cause)

    # ---- sender thread --------------------------------------------------------------
    def _call(self, method, path, body=None):
        """2xx or a final 4xx come back; anything worth retrying raises _Retry."""
        try:
            r = self.transport.request(method, path, body)
        except NETWORK_ERRORS as e:
            self.connected = False
            raise _Retry(f"{type(e).__name__}: {e}") from None
        self.requests += 1
        if r.status >= 500 or r.status in _RETRY_STATUSES:
            self.connected = r.status < 500 or r.status == 503
            if r.status in (401, 403):
                self._warn_once("auth", "tmon: %s refused the token (%s); set TMON_TOKEN or token=; records stay "
                                "in the journal", self.transport.url, r.error_text())
            raise _Retry(r.error_text(), _retry_after(r.headers))
        self.connected = True
        return r

    def _send_loop(self):
        opt = self.opt
        now = time.monotonic()
        last_send = 0.0
        last_write = now
        next_poll = now
        next_system = now + min(1.0, opt.system_interval) if opt.system_interval > 0 else math.inf
        backoff_until = 0.0
        failures = 0
        sent_mark = 0
        while True:
            now = time.monotonic()
            stopping = self._stop_sender.is_set()
            writer_done = self._writer_done.is_set()
            if stopping and writer_done and self.journal.pending_bytes() == 0 and not self.acks:
                break
            if stopping and self._stop_deadline is not None and now >= self._stop_deadline:
                break
            if self.sampler is not None and now >= next_system:
                try:
                    self._system.append(self.sampler.sample())
                except Exception as e:  # a sampler fault must never stop sending
                    self._warn_once("sampler", "tmon: system sampler failed: %s", e)
                next_system = now + opt.system_interval
            if now >= backoff_until:
                try:
                    pending = self.journal.pending_bytes()
                    if pending and (stopping or self._flush_requested or now - last_send >= opt.flush_interval
                                    or self.journaled_values - sent_mark >= opt.batch_size):
                        last_send = now
                        sent_mark = self.journaled_values
                        if self._send_pending():
                            last_write = time.monotonic()
                    if self.run_ready:
                        if self._system:
                            self._send_system()
                            last_write = time.monotonic()
                        if self.acks:
                            self._send_acks()
                            last_write = time.monotonic()
                        if not stopping and now >= next_poll:
                            next_poll = now + opt.command_interval
                            self._poll_commands()
                        if now - last_write >= opt.heartbeat_interval:
                            self._call("POST", f"/api/runs/{self.run_id}/heartbeat", {})
                            last_write = time.monotonic()
                    failures = 0
                except Exception as e:  # a bug must not end the sender: the journal would only grow
                    if not isinstance(e, _Retry):
                        log.exception("tmon: sender error (retrying): %s", e)
                        e = _Retry(f"{type(e).__name__}: {e}")
                    self.retries += 1
                    self.last_error = e.reason
                    delay = min(opt.backoff_max, opt.backoff_initial * (2 ** failures))
                    delay *= random.uniform(0.75, 1.25)
                    delay = min(delay, opt.backoff_max)
                    if e.retry_after is not None:  # the server's word is a floor
                        delay = max(delay, e.retry_after)
                    failures += 1
                    backoff_until = time.monotonic() + delay
                    if failures == 1 or failures % 10 == 0:
                        log.info("tmon: server unreachable (%s); retrying in %.1f s, data kept in the journal",
                                 e.reason, delay)
            with self._idle:
                self._idle.notify_all()
            timeout = 0.05 if (stopping or self._flush_requested) else 0.2
            self._wake.wait(timeout)
            self._wake.clear()
        self.transport.close()
        with self._idle:
            self._idle.notify_all()

    def _send_pending(self):
        """Sends what the journal holds; returns True when something was sent."""
        records = self.journal.read_pending()
        i = 0
        sent_any = False
        while i < len(records):
            end, payload = records[i]
            if payload[:1] == b"m":
                parts = []
                values = 0
                j = i
                while j < len(records) and records[j][1][:1] == b"m":
                    n, part = _metric_payload(records[j][1])
                    if parts and values + n > self.opt.batch_size:
                        break
                    parts.append(part)
                    values += n
                    end = records[j][0]
                    j += 1
                if self.send_metrics:
                    if not self._post_points(parts, values) and j - i > 1:
                        # One bad record refused the merged batch: send them one by one,
                        # so only the bad one is dropped.
                        self.dropped_rejected -= values
                        for one_end, one in records[i:j]:
                            n, part = _metric_payload(one)
                            self._post_points([part], n)
                            self.journal.ack(one_end)  # a retry goes on after the ones done
                self.journal.ack(end)
                i = j
            else:
                try:
                    rec = json.loads(payload)
                    kind = rec["k"]
                except (ValueError, KeyError, TypeError):
                    rec = kind = None
                if kind is None:  # not a record this version wrote: skip it, never loop on it
                    self.dropped_records += 1
                    self._warn_once("badrec", "tmon: journal %s holds a record this client cannot read; skipped",
                                    self.journal.path)
                else:
                    self._send_record(rec)
                self.journal.ack(end)
                i += 1
            sent_any = True
        return sent_any

    def _post_points(self, parts, values):
        body = b'{"points":[' + b",".join(parts) + b"]}"
        r = self._call("POST", f"/api/runs/{self.run_id}/metrics", body)
        if 200 <= r.status < 300:
            self.sent += values
            return True
        self.dropped_rejected += values
        self.last_error = r.error_text()
        self._warn_once(("metrics", r.status), "tmon: the server refused %d metric values (%s); dropped and "
                        "counted", values, r.error_text())
        return False

    def _send_record(self, rec):
        kind = rec["k"]
        rid = self.run_id
        if kind == "run":
            self._send_run(rec["b"])
            return
        if kind == "s":
            r = self._call("PUT", f"/api/runs/{rid}", {"status": rec["status"]})
            if r.status == 409:  # already terminal (a dashboard stop): leave it as the user set it
                log.info("tmon: run %s keeps its status; %s", rid, r.error_text())
                return
            if 200 <= r.status < 300:
                data = r.json()
                if isinstance(data, dict):
                    self.run_status = data.get("status")
                return
        elif kind == "c":
            r = self._call("POST", f"/api/runs/{rid}/checkpoints", rec["b"])
        elif kind == "e":
            r = self._call("POST", f"/api/runs/{rid}/events", rec["b"])
        elif kind == "l":
            r = self._call("POST", "/api/v1/metrics/layerwise", rec["b"])
        else:
            self._warn_once(("kind", kind), "tmon: unknown journal record kind %r skipped", kind)
            return
        if not 200 <= r.status < 300:
            self.dropped_records += 1
            self.last_error = r.error_text()
            self._warn_once((kind, r.status), "tmon: the server refused a record (%s: %s); dropped and counted",
                            {"s": "status", "c": "checkpoint", "e": "event", "l": "layer statistics"}.get(kind, kind),
                            r.error_text())

    def _send_run(self, body):
        r = self._call("POST", "/api/runs", body)
        run = r.json() if 200 <= r.status < 300 else None
        if r.status == 409:  # the id exists under another name: resume it as it is
            g = self._call("GET", f"/api/runs/{self.run_id}")
            run = g.json() if g.status == 200 else None
        if not isinstance(run, dict):
            self.last_error = r.error_text()
            self._warn_once(("run", r.status), "tmon: the server refused to create run %s (%s)", self.run_id,
                            r.error_text())
            return
        status = run.get("status")
        if status in ("failed", "interrupted") and self.send_metrics:
            u = self._call("PUT", f"/api/runs/{self.run_id}", {"status": "running"})
            if u.status == 200:
                status = "running"
        elif status in ("completed", "cancelled"):
            self._warn_once(("ended", status), "tmon: run %s is already %s on the server; its data is still "
                            "stored, its status is left", self.run_id, status)
        self.run_status = status
        self.run_ready = True

    def _send_system(self):
        samples = list(self._system)
        r = self._call("POST", f"/api/runs/{self.run_id}/system", {"samples": samples})
        for _ in samples:
            self._system.popleft()
        if not 200 <= r.status < 300:
            self._warn_once(("system", r.status), "tmon: the server refused system samples (%s); not sent again",
                            r.error_text())

    def _send_acks(self):
        while self.acks:
            cid, status, message = self.acks[0]
            r = self._call("POST", f"/api/runs/{self.run_id}/commands/{cid}/ack",
                           {"status": status, "message": message})
            if not 200 <= r.status < 300:
                self._warn_once(("ack", r.status), "tmon: command ack refused (%s)", r.error_text())
            self.acks.popleft()

    def _poll_commands(self):
        r = self._call("GET", f"/api/runs/{self.run_id}/commands?after={self.last_command_id}")
        if r.status != 200:
            return
        data = r.json()
        cmds = data.get("commands") if isinstance(data, dict) else None
        if not cmds:
            return
        for c in sorted(cmds, key=lambda c: c.get("id", 0)):
            if isinstance(c, dict) and isinstance(c.get("id"), int) and c["id"] > self.last_command_id:
                self.commands.append(c)
                self.last_command_id = c["id"]
        try:
            self._store_last_command_id()
        except OSError as e:
            self._warn_once("cmdfile", "tmon: cannot store the last command id: %s", e)

    # ---- control from the training thread ------------------------------------------
    def wake(self):
        self._wake.set()

    def flush(self, timeout):
        """Waits until the queue is journaled and the journal is sent, or until
        timeout; returns True when everything was sent."""
        deadline = time.monotonic() + timeout
        self._flush_requested = True
        try:
            while True:
                with self._drain_lock:  # the writer may hold popped items not yet journaled
                    idle = not self.queue
                if idle and self.journal.pending_bytes() == 0:
                    return True
                left = deadline - time.monotonic()
                if left <= 0 or not self._sender.is_alive():
                    return False
                self._wake.set()
                with self._idle:
                    self._idle.wait(min(left, 0.05))
        finally:
            self._flush_requested = False

    def journal_sync(self, timeout, fsync=False):
        """Waits until everything queued is in the journal file (on disk with
        fsync); True unless timeout passed first."""
        deadline = time.monotonic() + timeout
        while True:
            with self._drain_lock:
                if not self.queue:
                    if fsync:
                        self.journal.sync()
                    return True
            if time.monotonic() >= deadline or not self._writer.is_alive():
                return False
            time.sleep(0.005)

    def stop(self, timeout):
        self._stop_writer.set()
        self._writer.join()
        self._stop_deadline = time.monotonic() + max(0.0, timeout)
        self._stop_sender.set()
        self._wake.set()
        self._sender.join()
