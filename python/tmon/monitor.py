"""TrainingMonitor: the seed SDK's API (training-dashboard-backend.md) on top
of tmon's journal and background sender."""
import atexit
import collections
import dataclasses
import logging
import math
import os
import re
import sys
import time
import traceback
import urllib.parse
import weakref

from .journal import Journal, encode
from .sender import Options, Sender
from .system import SystemSampler
from .transport import NETWORK_ERRORS, Transport, default_host_name

log = logging.getLogger("tmon")

_ID_RE = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}$")
_STATUSES = ("running", "completed", "failed", "interrupted", "cancelled")
_TERMINAL = ("completed", "failed", "interrupted", "cancelled")


def new_id(prefix, hex_digits=12):
    return f"{prefix}_{os.urandom((hex_digits + 1) // 2).hex()[:hex_digits]}"


def _default_journal_dir():
    env = os.environ.get("TMON_JOURNAL_DIR")
    if env:
        return env
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(cache, "tmon", "journal")


def _finite_dict(d, what):
    """A copy of d with float values; refuses NaN/inf and non-numbers with a
    clear error (used off the hot path: checkpoints)."""
    out = {}
    for k, v in (d or {}).items():
        f = float(v)
        if math.isnan(f) or math.isinf(f):
            raise ValueError(f"{what}[{k!r}] must be a finite number, got {v!r}")
        out[str(k)] = f
    return out


@dataclasses.dataclass(frozen=True)
class Counters:
    """A snapshot of the client's counters. Values are scalar metric values
    (one key at one step) unless named otherwise."""

    sent: int  # acknowledged by the server
    queued: int  # logged, not yet acknowledged nor dropped
    journaled_bytes: int  # bytes in the on-disk journal not yet acknowledged
    dropped: int  # never to be sent: journal cap + refused by the server + not finite
    dropped_cap: int  # the journal was full (its cap) or its disk refused the write
    dropped_rejected: int
    dropped_invalid: int
    dropped_records: int  # checkpoints, events, statuses, layer snapshots refused or over the cap
    retries: int  # failed attempts that were retried after a backoff
    last_error: "str | None"
    connected: bool

    def as_dict(self):
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class Command:
    """A command for the training loop (the dashboard's stop / interrupt /
    load checkpoint, or POST /api/runs/{id}/commands)."""

    id: int
    type: str
    payload: dict
    checkpoint_id: "str | None" = None
    filepath: "str | None" = None
    raw: dict = dataclasses.field(default_factory=dict, repr=False)

    def __getitem__(self, key):  # cmd["type"] works as with the raw JSON
        return self.raw[key]


_live = weakref.WeakSet()


@atexit.register
def _close_all_at_exit():
    # A monitor never closed: journal what was logged and try briefly to send
    # it; the status is left alone (the process may be dying of an error).
    for m in list(_live):
        try:
            m._shutdown(None, timeout=min(m.close_timeout, 5.0))
        except Exception:  # exit must go on
            pass


class TrainingMonitor:
    """Reports one training run to a tmon-server.

    log_metrics() only appends to an in-memory queue; a background thread
    writes the queue into an on-disk journal every 20 ms and another posts
    the journal to the server, so training never waits for the network and
    a server outage (or a crash of either side) loses nothing that reached
    the journal.
    """

    def __init__(self, run_name=None, config=None, dashboard_url=None, *, run_id=None, token=None, tags=None,
                 notes=None, total_steps=None, rank=None, host=None, journal_dir=None,
                 max_journal_bytes=256 << 20, fsync=False, batch_size=4096, flush_interval=1.0,
                 heartbeat_interval=10.0, command_interval=2.0, system_interval=10.0, system_metrics=True,
                 request_timeout=5.0, close_timeout=10.0):
        self.dashboard_url = dashboard_url or os.environ.get("TMON_URL") or "http://localhost:8000"
        token = token if token is not None else os.environ.get("TMON_TOKEN")
        self._token = token
        self.run_id = run_id or os.environ.get("TMON_RUN_ID") or new_id("run")
        if not _ID_RE.match(self.run_id):
            raise ValueError(f"run_id must be 1-128 letters, digits, '_', '-' or '.' (not starting with '.'), "
                             f"got {self.run_id!r}")
        self.run_name = run_name or os.path.splitext(os.path.basename(sys.argv[0] or ""))[0] or self.run_id
        self.config = dict(config or {})
        if rank is None:
            rank = int(os.environ.get("TMON_RANK") or os.environ.get("RANK") or 0)
        if not 0 <= int(rank) <= 65535:
            raise ValueError(f"rank must be 0..65535, got {rank!r}")
        self.rank = int(rank)
        self.host = host or default_host_name()
        self.close_timeout = float(close_timeout)
        self.stop_requested = False  # a stop / interrupt command was handed to the loop
        self.is_resumed = False
        self._closed = False
        self._terminal_set = False
        self._ended_by_server = False
        self._next_step = 0
        self._logged = 0

        # Fail early on things the user must fix (bad URL, config that is not JSON).
        self._transport = Transport(self.dashboard_url, token=token, host_name=self.host, rank=self.rank,
                                    timeout=request_timeout)
        run_body = {"id": self.run_id, "name": self.run_name, "config": self.config}
        if tags is not None:
            run_body["tags"] = list(tags)
        if notes is not None:
            run_body["notes"] = str(notes)
        if total_steps is not None:
            run_body["total_steps"] = int(total_steps)
        try:
            encode(run_body)
        except (TypeError, ValueError) as e:
            raise ValueError(f"config must be JSON (finite numbers, strings, lists, dicts): {e}") from None

        # One journal per (run, rank): ranks of one run may share a machine.
        self.journal_dir = os.path.join(journal_dir or _default_journal_dir(),
                                        self.run_id if self.rank == 0 else f"{self.run_id}.rank{self.rank}")
        os.makedirs(self.journal_dir, exist_ok=True)
        self._lock_fd = self._lock_journal()
        self.journal = Journal(os.path.join(self.journal_dir, "journal.bin"), max_bytes=max_journal_bytes,
                               fsync=fsync)
        self.replayed_records = self.journal.recovered_records
        if self.replayed_records:
            log.info("tmon: run %s: %d journaled records from an earlier process are sent first", self.run_id,
                     self.replayed_records)

        self._queue = collections.deque()
        opts = Options(batch_size=batch_size, flush_interval=flush_interval, heartbeat_interval=heartbeat_interval,
                       command_interval=command_interval, system_interval=system_interval if system_metrics else 0)
        self._sender = Sender(self.run_id, self._transport, self.journal, self._queue, opts,
                              sampler=SystemSampler() if system_metrics and system_interval > 0 else None,
                              command_file=os.path.join(self.journal_dir, "last_command"),
                              send_metrics=self.rank == 0)
        self._queue.append({"k": "run", "b": run_body})
        self._sender.start()
        _live.add(self)

    def _lock_journal(self):
        try:
            import fcntl
        except ImportError:  # not Unix: no cross-process guard
            return None
        fd = os.open(os.path.join(self.journal_dir, "lock"), os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise RuntimeError(f"another monitor (in this or another process) is reporting run {self.run_id} "
                               f"(its journal {self.journal_dir} is locked); give each process its own run id "
                               f"or rank") from None
        return fd

    # ---- resume ---------------------------------------------------------------------
    @classmethod
    def resume(cls, run_name=None, config=None, dashboard_url=None, *, run_id=None, **kwargs):
        """Continues a run instead of starting a new one: the given run_id (or
        TMON_RUN_ID), else the newest unfinished run (running, failed or
        interrupted) named run_name on the server, else a new run. A journal
        left by a killed process with the same run id is sent first. Sets
        is_resumed; last_checkpoint() says where to restart from."""
        rid = run_id or os.environ.get("TMON_RUN_ID")
        url = dashboard_url or os.environ.get("TMON_URL") or "http://localhost:8000"
        token = kwargs.get("token") if kwargs.get("token") is not None else os.environ.get("TMON_TOKEN")
        found = False
        probe = Transport(url, token=token, timeout=kwargs.get("request_timeout", 5.0))
        try:
            if rid is None and run_name:
                r = probe.request("GET", "/api/runs?sort=created_desc&limit=1000&q=" + urllib.parse.quote(run_name))
                data = r.json() if r.status == 200 else None
                for run in (data or {}).get("runs", []):
                    if run.get("name") == run_name and run.get("status") in ("running", "failed", "interrupted"):
                        rid, found = run["id"], True
                        break
            elif rid is not None:
                found = probe.request("GET", f"/api/runs/{rid}").status == 200
        except NETWORK_ERRORS as e:
            log.warning("tmon: cannot reach %s to look for a run to resume (%s)", url, e)
        finally:
            probe.close()
        m = cls(run_name, config, url, run_id=rid, **kwargs)
        m.is_resumed = found or m.replayed_records > 0
        return m

    def last_checkpoint(self):
        """The run's newest checkpoint as the server has it (a dict), or None
        (none yet, or the server is unreachable)."""
        t = Transport(self.dashboard_url, token=self._token, host_name=self.host, rank=self.rank, timeout=5.0)
        try:
            r = t.request("GET", f"/api/runs/{self.run_id}/checkpoints")
            data = r.json() if r.status == 200 else None
            cks = (data or {}).get("checkpoints") or []
            return cks[0] if cks else None
        except NETWORK_ERRORS:
            return None
        finally:
            t.close()

    # ---- the hot path ---------------------------------------------------------------
    def log_metrics(self, metrics, step=None):
        """Queues {key: number} at step (default: the previous step + 1).
        Never blocks: no lock, no I/O. Numbers are converted with float() in
        the background; NaN/inf and non-numbers are dropped and counted.
        Ranks other than 0 do not log metrics: a no-op there."""
        if self.rank:
            return
        if step is None:
            step = self._next_step
        elif type(step) is not int:
            step = int(step)
        if step < 0:
            raise ValueError(f"step must be >= 0, got {step}")
        self._next_step = step + 1
        self._logged += len(metrics)
        self._queue.append((step, time.time(), dict(metrics)))

    # ---- everything else goes through the same queue, in order ----------------------
    def _enqueue(self, rec):
        if self._closed:
            raise RuntimeError(f"the monitor of run {self.run_id} is closed")
        try:
            encode(rec)
        except (TypeError, ValueError) as e:
            raise ValueError(f"not JSON (numbers must be finite): {e}") from None
        self._queue.append(rec)

    def save_checkpoint(self, filepath, metrics=None, is_best=False, *, step=None, metadata=None):
        """Registers a checkpoint file (the file itself stays where it is) and
        returns its id. The id is chosen here, so a replay stores it once."""
        cid = new_id("ckpt", 16)
        body = {"id": cid, "filepath": str(filepath), "metrics": _finite_dict(metrics, "metrics"),
                "metadata": dict(metadata or {}), "is_best": bool(is_best)}
        if step is None and self._next_step > 0:
            step = self._next_step - 1
        if step is not None:
            body["step"] = int(step)
        if self.rank == 0:
            self._enqueue({"k": "c", "b": body})
        return cid

    def log_event(self, type, message="", data=None):
        """Writes one entry into the run's event log; returns its client id."""
        eid = new_id("evt", 16)
        self._enqueue({"k": "e", "b": {"id": eid, "type": str(type), "message": str(message),
                                      "data": dict(data or {})}})
        return eid

    def set_status(self, status):
        """running, completed, failed, interrupted or cancelled."""
        if status not in _STATUSES:
            raise ValueError(f"status must be one of {', '.join(_STATUSES)}, got {status!r}")
        if self.rank != 0:
            return
        self._enqueue({"k": "s", "status": status})
        self._terminal_set = status in _TERMINAL

    def log_layers(self, step, layers, timestamp=None):
        """Per-layer statistics for one step, in the layerwise shape:
        [{"name": "conv1", "activations": {"mean", "std", "min", "max",
        "histogram": {"counts": [...], "min", "max"}}, "gradients": {...},
        "parameters": {...}}, ...] or a dict {name: {...}}."""
        if isinstance(layers, dict):
            layers = [dict(v, name=k) for k, v in layers.items()]
        body = {"run_id": self.run_id, "step": int(step),
                "timestamp": time.time() if timestamp is None else float(timestamp), "layers": list(layers)}
        if self.rank == 0:
            self._enqueue({"k": "l", "b": body})

    def poll_commands(self):
        """Commands that arrived since the last call (polled in the background
        every 2 s), each acknowledged to the server as handed to the loop.
        A stop or interrupt also sets stop_requested."""
        out = []
        s = self._sender
        while True:
            try:
                c = s.commands.popleft()
            except IndexError:
                break
            cmd = Command(id=c["id"], type=str(c.get("type", "")), payload=c.get("payload") or {},
                          checkpoint_id=c.get("checkpoint_id"), filepath=c.get("filepath"), raw=c)
            out.append(cmd)
            s.acks.append((cmd.id, "ok", f"handed to the training loop of {self.host} rank {self.rank}"))
            if cmd.type in ("stop", "interrupt"):
                self.stop_requested = True
                self._ended_by_server = True
        if out:
            s.wake()
        return out

    # ---- state ----------------------------------------------------------------------
    @property
    def counters(self):
        s = self._sender
        dropped = s.dropped_cap + s.dropped_rejected + s.dropped_invalid
        return Counters(sent=s.sent, queued=max(0, self._logged - s.sent - dropped),
                        journaled_bytes=self.journal.pending_bytes() if not self._closed else 0,
                        dropped=dropped, dropped_cap=s.dropped_cap, dropped_rejected=s.dropped_rejected,
                        dropped_invalid=s.dropped_invalid, dropped_records=s.dropped_records, retries=s.retries,
                        last_error=s.last_error, connected=s.connected)

    @property
    def offline(self):
        return not self._sender.connected

    def flush(self, timeout=None):
        """Waits until everything logged so far is journaled and acknowledged
        by the server (or timeout seconds, default close_timeout); True when
        it all arrived."""
        return self._sender.flush(self.close_timeout if timeout is None else timeout)

    def sync(self, timeout=10.0, fsync=False):
        """Waits until everything logged so far is in the on-disk journal
        (not necessarily sent): from then on it survives a crash of this
        process (and of the machine, with fsync=True). True unless timeout."""
        return self._sender.journal_sync(timeout, fsync)

    # ---- the end --------------------------------------------------------------------
    def close(self, status=None, timeout=None):
        """Marks the run completed (or the given status) unless a terminal
        status was already set here or by the dashboard (a stop command),
        then sends what is left for up to timeout seconds (default
        close_timeout). Whatever the server did not get stays in the journal
        and is sent by the next monitor with this run id."""
        if status is None and not self._terminal_set and not self._ended_by_server:
            status = "completed"
        self._shutdown(status, self.close_timeout if timeout is None else timeout)

    def _shutdown(self, status, timeout):
        if self._closed:
            return
        if status is not None:
            self.set_status(status)
        self._closed = True
        _live.discard(self)
        self._sender.stop(timeout)
        left = self.journal.pending_bytes()
        if left:
            log.warning("tmon: run %s: %d journaled bytes not acknowledged by %s (%s); they stay in %s and are "
                        "sent by the next monitor with run_id=%r", self.run_id, left, self.dashboard_url,
                        self._sender.last_error or "server unreachable", self.journal_dir, self.run_id)
        self.journal.close(remove_if_empty=True)
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.close()
        elif issubclass(exc_type, KeyboardInterrupt):
            self.close("interrupted")
        else:
            last = traceback.format_exception_only(exc_type, exc)[-1].strip()
            if not self._closed:
                try:
                    self.log_event("run_failed", last, {"exception": exc_type.__name__})
                except (RuntimeError, ValueError):
                    pass
            self.close("failed")
        return False

    def __repr__(self):
        return f"TrainingMonitor(run_id={self.run_id!r}, run_name={self.run_name!r}, url={self.dashboard_url!r})"

