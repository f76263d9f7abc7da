#!/usr/bin/env python3
"""Load and soak tests for tmon-server: a Release server on a free port in a temp dir, then

  (a) keep-alive load: N connections (1,000) for S seconds (60) asking for /health,
      metrics/latest and a run list, closed loop: req/s, p50/p99, and the server's RSS and
      open descriptors before, during and after;
  (b) ingestion soak: M minutes (5) of metric batches POSTed by a few writers at a fixed
      rate while 50 WebSocket subscribers follow every run; the server's RSS and descriptor
      count sampled every few seconds, and whether they stay flat after warm-up;
  (c) abuse: honest clients (GET latest + POST a point, paced) measured alone, then again
      while abusive clients run beside them: a WebSocket ping flood that never reads, a
      pipelining client that never reads, slowloris, deeply nested JSON bodies, huge bodies.
      Target: the honest p99 under abuse within 2x of the quiet one.

A summary table ends the output. Benchmarks, not tests: nothing here fails on a number,
except a server that dies or stops answering.

  benchmarks/soak.py                                      all three, full length (~8 min)
  benchmarks/soak.py --seconds 10 --ingest-minutes 0.5 --abuse-seconds 10     (~1.5 min)
  benchmarks/soak.py --phases c --storage jsonl
  benchmarks/soak.py --server build-bench/examples/tmon-server

Standard library + python3-websockets (Debian's python3-websockets; the script re-runs
itself under /usr/bin/python3 if the interpreter it started in lacks the module). Clients
spread over source addresses 127.0.0.1-127.0.0.8, so the server's per-address connection
cap (256) is not what (a) measures. The clients are Python: on a small machine their CPU
is part of the figure, so req/s in (a) is a floor for the server, not its ceiling.
"""
import argparse
import array
import asyncio
import json
import math
import multiprocessing as mp
import os
import random
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

try:
    import websockets
except ImportError:  # pyenv/venv pythons lack Debian's python3-websockets
    if os.path.exists("/usr/bin/python3") and os.path.realpath(sys.executable) != os.path.realpath("/usr/bin/python3"):
        os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
    sys.exit("soak.py needs python3-websockets (scripts/install_deps.sh test)")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SOURCE_IPS = [f"127.0.0.{i}" for i in range(1, 9)]


# ---- the server ------------------------------------------------------------------------------
def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def build_server(build, jobs):
    exe = os.path.join(build, "examples", "tmon-server")
    if os.path.exists(exe):
        return exe
    print(f"building a Release tmon-server in {build} ...", flush=True)
    subprocess.run(["cmake", "-S", ROOT, "-B", build, "-DCMAKE_BUILD_TYPE=Release", "-DTMON_BUILD_TESTS=OFF"],
                   check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["cmake", "--build", build, "-j", str(jobs), "--target", "tmon-server"], check=True,
                   stdout=subprocess.DEVNULL)
    return exe


class Server:
    def __init__(self, exe, storage, workdir, threads):
        self.port = free_port()
        self.log_path = os.path.join(workdir, "server.log")
        db = os.path.join(workdir, "runs.db" if storage == "sqlite" else "runs")
        args = [exe, "--host", "127.0.0.1", "--port", str(self.port), "--storage", storage, "--db", db,
                "--log-level", "warn", "--sample-ms", "1000"]
        if threads:
            args += ["--threads", str(threads)]
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 20
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"tmon-server exited at start:\n{self.log_tail()}")
            try:
                status, _ = http_once(self.port, "GET", "/health")
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise SystemExit(f"tmon-server did not answer /health:\n{self.log_tail()}")

    def alive(self):
        return self.proc.poll() is None

    def rss_mb(self):
        try:
            with open(f"/proc/{self.proc.pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1]) / 1024
        except OSError:
            pass
        return float("nan")

    def fds(self):
        try:
            return len(os.listdir(f"/proc/{self.proc.pid}/fd"))
        except OSError:
            return -1

    def log_tail(self, n=30):
        self.log.flush()
        with open(self.log_path, "rb") as f:
            return b"".join(f.readlines()[-n:]).decode(errors="replace")

    def stop(self):
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


class Sampler:
    """The server's RSS (MB) and open descriptors every `period` seconds, on a thread."""

    def __init__(self, server, period):
        self.server, self.period = server, period
        self.samples = []  # (seconds since start, rss MB, fds)
        self._stop = threading.Event()
        self._t0 = time.time()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.is_set():
            self.samples.append((time.time() - self._t0, self.server.rss_mb(), self.server.fds()))
            self._stop.wait(self.period)

    def stop(self):
        self._stop.set()
        self._thread.join()
        return self.samples


# ---- a minimal HTTP/1.1 client ----------------------------------------------------------------
def request_bytes(method, path, body=b"", extra=""):
    head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{extra}"
    if body or method in ("POST", "PUT"):
        head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
    return head.encode() + b"\r\n" + body


def http_once(port, method, path, body=b""):
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(request_bytes(method, path, body, "Connection: close\r\n"))
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), rest


async def read_response(reader):
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    length, chunked, close = 0, False, False
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
        elif name == b"connection" and b"close" in value.lower():
            close = True
    if chunked:
        body = b""
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            body += await reader.readexactly(size + 2)
            if size == 0:
                break
    else:
        body = await reader.readexactly(length)
    return status, body, close


class Conn:
    """One keep-alive connection; reconnects (and counts it) when the server closes it."""

    def __init__(self, port, source_ip):
        self.port, self.source_ip = port, source_ip
        self.reader = self.writer = None
        self.reconnects = 0

    async def open(self):
        self.reader, self.writer = await asyncio.open_connection(
            "127.0.0.1", self.port, local_addr=(self.source_ip, 0), limit=1 << 22)

    async def request(self, method, path, body=b""):
        for attempt in range(2):
            try:
                if self.writer is None:
                    await self.open()
                    self.reconnects += attempt
                self.writer.write(request_bytes(method, path, body))
                status, data, close = await read_response(self.reader)
                if close:
                    self.close()
                return status, data
            except (ConnectionError, asyncio.IncompleteReadError, OSError):
                self.close()
                if attempt:
                    raise
        raise ConnectionError("unreachable")

    def close(self):
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


def percentile(sorted_values, p):
    if not sorted_values:
        return float("nan")
    k = min(len(sorted_values) - 1, max(0, math.ceil(p / 100 * len(sorted_values)) - 1))
    return sorted_values[k]


def raise_fd_limit():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


# ---- setup: a run with points, for the read routes --------------------------------------------
def make_run(port, name):
    status, body = http_once(port, "POST", "/api/runs", json.dumps({"name": name, "total_steps": 100000}).encode())
    if status != 200:
        raise SystemExit(f"creating a run failed: {status} {body[:200]!r}")
    return json.loads(body)["id"]


def seed_points(port, run_id, steps=200):
    points = [{"step": s, "metrics": {"loss": 2 * math.exp(-s / 40) + 0.05, "acc": 1 - math.exp(-s / 30),
                                      "lr": 0.001, "grad_norm": 1 / (1 + s)}} for s in range(steps)]
    status, body = http_once(port, "POST", f"/api/runs/{run_id}/metrics", json.dumps({"points": points}).encode())
    if status != 200:
        raise SystemExit(f"seeding metrics failed: {status} {body[:200]!r}")


# ---- (a) keep-alive load -----------------------------------------------------------------------
def load_worker(port, paths, conn_ids, seconds, ready, go, out):
    raise_fd_limit()

    async def main():
        conns = [Conn(port, SOURCE_IPS[i % len(SOURCE_IPS)]) for i in conn_ids]
        opened = await asyncio.gather(*(c.open() for c in conns), return_exceptions=True)
        failed_open = sum(isinstance(r, Exception) for r in opened)
        ready.put(len(conns) - failed_open)
        while not go.is_set():
            await asyncio.sleep(0.01)
        deadline = time.perf_counter() + seconds
        lat = array.array("f")
        statuses = {}
        errors = 0

        async def loop(c, k):
            nonlocal errors
            i = k
            while time.perf_counter() < deadline:
                path = paths[i % len(paths)]
                i += 1
                t = time.perf_counter()
                try:
                    status, _ = await c.request("GET", path)
                except (ConnectionError, OSError, asyncio.IncompleteReadError, ValueError):
                    errors += 1
                    await asyncio.sleep(0.05)
                    continue
                lat.append((time.perf_counter() - t) * 1000)
                statuses[status] = statuses.get(status, 0) + 1

        await asyncio.gather(*(loop(c, k) for k, c in enumerate(conns) if c.writer is not None))
        reconnects = sum(c.reconnects for c in conns)
        for c in conns:
            c.close()
        out.put({"lat": lat.tobytes(), "statuses": statuses, "errors": errors + failed_open, "reconnects": reconnects})

    asyncio.run(main())


def phase_keepalive(server, args, summary):
    print(f"(a) {args.connections} keep-alive connections for {args.seconds} s", flush=True)
    run_id = make_run(server.port, "soak-read")
    seed_points(server.port, run_id)
    paths = [f"/api/runs/{run_id}/metrics/latest", "/health", f"/api/runs/{run_id}/metrics/latest", "/api/runs?limit=5"]
    time.sleep(1)
    before = (server.rss_mb(), server.fds())
    procs_n = max(1, min(args.client_procs, args.connections))
    ctx = mp.get_context("fork")
    ready, out, go = ctx.Queue(), ctx.Queue(), ctx.Event()
    ids = list(range(args.connections))
    procs = [ctx.Process(target=load_worker, args=(server.port, paths, ids[p::procs_n], args.seconds, ready, go, out))
             for p in range(procs_n)]
    for p in procs:
        p.start()
    opened = sum(ready.get(timeout=120) for _ in procs)
    connected = (server.rss_mb(), server.fds())
    sampler = Sampler(server, 1.0)
    t0 = time.time()
    go.set()
    results = [out.get(timeout=args.seconds + 120) for _ in procs]
    elapsed = time.time() - t0
    samples = sampler.stop()
    for p in procs:
        p.join()
    time.sleep(3)
    after = (server.rss_mb(), server.fds())
    lat = array.array("f")
    statuses, errors, reconnects = {}, 0, 0
    for r in results:
        lat.frombytes(r["lat"])
        for k, v in r["statuses"].items():
            statuses[k] = statuses.get(k, 0) + v
        errors += r["errors"]
        reconnects += r["reconnects"]
    lats = sorted(lat)
    rps = len(lats) / elapsed
    during_rss = max(s[1] for s in samples)
    during_fds = max(s[2] for s in samples)
    print(f"    {opened} of {args.connections} connected; {len(lats)} requests in {elapsed:.1f} s = {rps:,.0f} req/s; "
          f"p50 {percentile(lats, 50):.2f} ms, p99 {percentile(lats, 99):.2f} ms, max {lats[-1] if lats else 0:.1f} ms")
    print(f"    statuses {dict(sorted(statuses.items()))}, errors {errors}, reconnects {reconnects}")
    print(f"    server RSS {before[0]:.1f} MB before, {connected[0]:.1f} connected, {during_rss:.1f} max during, "
          f"{after[0]:.1f} after; fds {before[1]} / {connected[1]} / {during_fds} / {after[1]}")
    summary += [
        ("a keep-alive", "connections open", f"{opened} / {args.connections}"),
        ("a keep-alive", "req/s (Python clients)", f"{rps:,.0f}"),
        ("a keep-alive", "p50 / p99 latency", f"{percentile(lats, 50):.2f} / {percentile(lats, 99):.2f} ms"),
        ("a keep-alive", "non-200 / errors / reconnects",
         f"{sum(v for k, v in statuses.items() if k != 200)} / {errors} / {reconnects}"),
        ("a keep-alive", "RSS before/during/after", f"{before[0]:.0f} / {during_rss:.0f} / {after[0]:.0f} MB"),
        ("a keep-alive", "fds before/during/after", f"{before[1]} / {during_fds} / {after[1]}"),
    ]


# ---- (b) ingestion soak with WebSocket subscribers --------------------------------------------
def trend(samples, warmup_s):
    """RSS and fd change over the samples after warm-up: (rss growth MB by least squares, fd range)."""
    tail = [s for s in samples if s[0] >= warmup_s]
    if len(tail) < 3:
        return float("nan"), 0, tail
    n = len(tail)
    mt = sum(s[0] for s in tail) / n
    mr = sum(s[1] for s in tail) / n
    var = sum((s[0] - mt) ** 2 for s in tail)
    slope = sum((s[0] - mt) * (s[1] - mr) for s in tail) / var if var else 0.0
    growth = slope * (tail[-1][0] - tail[0][0])
    fd_range = max(s[2] for s in tail) - min(s[2] for s in tail)
    return growth, fd_range, tail


def phase_ingest(server, args, summary):
    seconds = args.ingest_minutes * 60
    print(f"(b) {args.ingest_minutes:g} min of ingestion ({args.writers} writers, {args.batch_rate} batches/s of "
          f"{args.batch_points} points x 4 keys) with {args.subscribers} WebSocket subscribers", flush=True)
    runs = [make_run(server.port, f"soak-ingest-{i}") for i in range(args.writers)]
    stats = {"batches": 0, "non200": 0, "errors": 0, "ws_messages": 0, "ws_bytes": 0, "ws_closed": 0}
    write_lat = array.array("f")

    async def subscriber(i, stop):
        uri = f"ws://127.0.0.1:{server.port}/ws"
        try:
            async with websockets.connect(uri, max_size=None, ping_interval=None,
                                          local_addr=(SOURCE_IPS[i % len(SOURCE_IPS)], 0)) as ws:
                await ws.send(json.dumps({"type": "subscribe", "run_id": "*"}))
                while not stop.is_set():
                    try:
                        msg = await asyncio.wait_for(ws.recv(), 0.5)
                    except asyncio.TimeoutError:
                        continue
                    stats["ws_messages"] += 1
                    stats["ws_bytes"] += len(msg)
        except (websockets.ConnectionClosed, OSError):
            stats["ws_closed"] += 1

    async def writer(k, stop):
        c = Conn(server.port, SOURCE_IPS[k % len(SOURCE_IPS)])
        step = 0
        period = args.writers / args.batch_rate
        next_at = time.perf_counter()
        while not stop.is_set():
            points = [{"step": step + j, "metrics": {"loss": random.random(), "acc": random.random(),
                                                     "lr": 0.001, "grad_norm": random.random() * 10}}
                      for j in range(args.batch_points)]
            step += args.batch_points
            body = json.dumps({"points": points}).encode()
            t = time.perf_counter()
            try:
                status, _ = await c.request("POST", f"/api/runs/{runs[k]}/metrics", body)
                write_lat.append((time.perf_counter() - t) * 1000)
                stats["batches"] += 1
                stats["non200"] += status != 200
            except (ConnectionError, OSError, asyncio.IncompleteReadError):
                stats["errors"] += 1
            next_at += period
            await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
        c.close()

    async def main():
        stop = asyncio.Event()
        subs = [asyncio.create_task(subscriber(i, stop)) for i in range(args.subscribers)]
        await asyncio.sleep(1)
        writers = [asyncio.create_task(writer(k, stop)) for k in range(args.writers)]
        sampler = Sampler(server, args.sample_seconds)
        t0 = time.time()
        next_report = t0 + 30
        while time.time() - t0 < seconds:
            await asyncio.sleep(0.5)
            if not server.alive():
                break
            if time.time() >= next_report:
                s = sampler.samples[-1]
                print(f"    {s[0]:5.0f} s: RSS {s[1]:.1f} MB, fds {s[2]}, {stats['batches']} batches, "
                      f"{stats['ws_messages']} WS messages", flush=True)
                next_report += 30
        stop.set()
        await asyncio.gather(*writers, *subs)
        return sampler.stop(), time.time() - t0

    samples, elapsed = asyncio.run(main())
    if not server.alive():
        raise SystemExit(f"tmon-server died during ingestion:\n{server.log_tail()}")
    warmup = max(30.0, 0.2 * seconds)
    growth, fd_range, tail = trend(samples, warmup)
    lats = sorted(write_lat)
    points = stats["batches"] * args.batch_points * 4
    rss_flat = not math.isnan(growth) and growth < max(8.0, 0.05 * tail[0][1])
    fds_flat = fd_range <= 2
    verdict = ("flat" if rss_flat else f"GROWING ({growth:+.1f} MB)") if not math.isnan(growth) else "too short to tell"
    print(f"    {stats['batches']} batches ({points / elapsed:,.0f} values/s), write p50 {percentile(lats, 50):.2f} ms "
          f"p99 {percentile(lats, 99):.2f} ms, non-200 {stats['non200']}, errors {stats['errors']}")
    print(f"    {stats['ws_messages']} WS messages ({stats['ws_messages'] / elapsed:,.0f}/s, "
          f"{stats['ws_bytes'] / elapsed / 1e6:.2f} MB/s) to {args.subscribers} subscribers, {stats['ws_closed']} closed")
    print("    RSS MB / fds every sample: " + " ".join(f"{s[1]:.0f}/{s[2]}" for s in samples))
    print(f"    after {warmup:.0f} s warm-up: RSS {verdict} ({growth:+.1f} MB by a least-squares fit over "
          f"{tail[-1][0] - tail[0][0] if tail else 0:.0f} s), fds {'flat' if fds_flat else 'CHANGING'} (range {fd_range})")
    if args.storage != "sqlite":
        print(f"    note: the {args.storage} store keeps every point in memory, so RSS grows with the data by design")
    summary += [
        ("b ingestion", "values/s written", f"{points / elapsed:,.0f}"),
        ("b ingestion", "write p50 / p99", f"{percentile(lats, 50):.2f} / {percentile(lats, 99):.2f} ms"),
        ("b ingestion", "WS messages/s (all subscribers)", f"{stats['ws_messages'] / elapsed:,.0f}"),
        ("b ingestion", "RSS first/last after warm-up",
         f"{tail[0][1]:.0f} / {tail[-1][1]:.0f} MB: {verdict}" if tail else "n/a"),
        ("b ingestion", "fds after warm-up", f"{min(s[2] for s in tail)}..{max(s[2] for s in tail)}: "
                                             f"{'flat' if fds_flat else 'CHANGING'}" if tail else "n/a"),
    ]


# ---- (c) abusive clients beside honest ones ---------------------------------------------------
def honest_worker(port, run_id, n, seconds, pace_ms, out):
    async def main():
        lat = array.array("f")
        errors = 0
        deadline = time.perf_counter() + seconds

        async def client(k):
            nonlocal errors
            c = Conn(port, SOURCE_IPS[k % len(SOURCE_IPS)])
            step = k * 10_000_000
            while time.perf_counter() < deadline:
                if step % 2:
                    method, path, body = "GET", f"/api/runs/{run_id}/metrics/latest", b""
                else:
                    method, path = "POST", f"/api/runs/{run_id}/metrics"
                    body = json.dumps({"step": step, "metrics": {"honest": 1.0}}).encode()
                step += 1
                t = time.perf_counter()
                try:
                    status, _ = await c.request(method, path, body)
                    if status != 200:
                        errors += 1
                    lat.append((time.perf_counter() - t) * 1000)
                except (ConnectionError, OSError, asyncio.IncompleteReadError):
                    errors += 1
                await asyncio.sleep(pace_ms / 1000)
            c.close()

        await asyncio.gather(*(client(k) for k in range(n)))
        out.put({"lat": lat.tobytes(), "errors": errors})

    asyncio.run(main())


def ws_frame(opcode, payload):
    mask = os.urandom(4)
    n = len(payload)
    head = bytes([0x80 | opcode])
    head += bytes([0x80 | n]) if n < 126 else bytes([0x80 | 126]) + n.to_bytes(2, "big")
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


ABUSERS = ["ping-flood", "pipeline-no-read", "slowloris", "nested-json", "huge-body"]


def abuser(kind, port, run_id, seconds, out):
    """One abusive client of `kind`, looping until `seconds` pass; puts what it saw."""
    deadline = time.time() + seconds
    seen = {"kind": kind, "connections": 0, "closed_by_server": 0, "bytes_sent": 0, "statuses": {}}

    def connect(i=0):
        s = socket.socket()
        s.bind((SOURCE_IPS[(i + 3) % len(SOURCE_IPS)], 0))
        s.connect(("127.0.0.1", port))
        seen["connections"] += 1
        return s

    def status_of(s):
        try:
            s.settimeout(30)
            data = s.recv(4096)
            if data.startswith(b"HTTP/1.1 "):
                code = int(data.split(b" ", 2)[1])
                seen["statuses"][code] = seen["statuses"].get(code, 0) + 1
        except OSError:
            pass

    try:
        if kind == "ping-flood":  # WebSocket pings as fast as possible, never reading the pongs
            while time.time() < deadline:
                s = connect()
                s.sendall(b"GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                          b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
                status_of(s)  # 101, or the flood below measures a refused handshake's linger instead
                ping = ws_frame(0x9, b"p" * 125) * 64
                s.settimeout(2)
                try:
                    while time.time() < deadline:
                        s.sendall(ping)
                        seen["bytes_sent"] += len(ping)
                except (socket.timeout, OSError) as e:
                    if not isinstance(e, socket.timeout):
                        seen["closed_by_server"] += 1
                    else:  # our send blocks: the server stopped reading us; wait for it to close
                        try:
                            s.settimeout(max(0.1, deadline - time.time()))
                            while s.recv(65536):
                                pass
                            seen["closed_by_server"] += 1
                        except OSError:
                            pass
                s.close()
        elif kind == "pipeline-no-read":  # pipelined requests, responses never read
            while time.time() < deadline:
                s = connect()
                batch = (f"GET /api/runs/{run_id}/metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" * 200).encode()
                s.settimeout(2)
                try:
                    while time.time() < deadline:
                        s.sendall(batch)
                        seen["bytes_sent"] += len(batch)
                except socket.timeout:
                    seen["blocked"] = seen.get("blocked", 0) + 1  # back-pressure: the server stopped reading
                    time.sleep(max(0.0, min(5.0, deadline - time.time())))
                except OSError:
                    seen["closed_by_server"] += 1
                s.close()
        elif kind == "slowloris":  # 40 connections, a header byte each per second
            socks = []
            head = b"GET /api/runs HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 4000
            pos = {}
            while time.time() < deadline:
                while len(socks) < 40:
                    s = connect(len(socks))
                    s.setblocking(False)
                    socks.append(s)
                    pos[s] = 0
                for s in list(socks):
                    try:
                        s.send(head[pos[s] % len(head):pos[s] % len(head) + 1])
                        pos[s] += 1
                        seen["bytes_sent"] += 1
                        try:
                            if s.recv(4096) == b"":
                                raise ConnectionResetError
                        except BlockingIOError:
                            pass
                    except OSError:
                        seen["closed_by_server"] += 1
                        socks.remove(s)
                        s.close()
                time.sleep(1)
            for s in socks:
                s.close()
        elif kind == "nested-json":  # bodies nested far past any depth limit
            body = b"[" * 200_000 + b"]" * 200_000
            while time.time() < deadline:
                s = connect()
                s.sendall(request_bytes("POST", "/api/runs", body, "Connection: close\r\n"))
                seen["bytes_sent"] += len(body)
                status_of(s)
                s.close()
        elif kind == "huge-body":  # over the body limit, then 32 MB of junk within it
            junk = b"x" * (32 << 20)
            i = 0
            while time.time() < deadline:
                s = connect()
                try:
                    if i % 2 == 0:
                        s.sendall(f"POST /api/runs/{run_id}/metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                                  f"Content-Length: {1 << 34}\r\n\r\n".encode() + junk[:1 << 20])
                    else:
                        s.sendall(request_bytes("POST", f"/api/runs/{run_id}/metrics", junk, "Connection: close\r\n"))
                        seen["bytes_sent"] += len(junk)
                except OSError:  # refused before all of it was sent, and closed: the answer may still be there
                    seen["closed_by_server"] += 1
                status_of(s)
                s.close()
                i += 1
    except OSError as e:
        seen["error"] = repr(e)
    out.put(seen)


def run_honest(server, run_id, args):
    ctx = mp.get_context("fork")
    out = ctx.Queue()
    p = ctx.Process(target=honest_worker, args=(server.port, run_id, args.honest, args.abuse_seconds, args.pace_ms, out))
    p.start()
    r = out.get(timeout=args.abuse_seconds + 120)
    p.join()
    lat = array.array("f")
    lat.frombytes(r["lat"])
    return sorted(lat), r["errors"]


def phase_abuse(server, args, summary):
    kinds = args.abusers.split(",")
    print(f"(c) {args.honest} honest clients (GET latest / POST a point, {args.pace_ms} ms apart), "
          f"{args.abuse_seconds} s quiet, then {args.abuse_seconds} s beside: {', '.join(kinds)}", flush=True)
    run_id = make_run(server.port, "soak-abuse")
    seed_points(server.port, run_id)
    quiet, quiet_err = run_honest(server, run_id, args)
    before = (server.rss_mb(), server.fds())
    ctx = mp.get_context("fork")
    out = ctx.Queue()
    abusers = [ctx.Process(target=abuser, args=(k, server.port, run_id, args.abuse_seconds + 2, out)) for k in kinds]
    for p in abusers:
        p.start()
    time.sleep(1)
    sampler = Sampler(server, 1.0)
    loud, loud_err = run_honest(server, run_id, args)
    samples = sampler.stop()
    seen = [out.get(timeout=120) for _ in abusers]
    for p in abusers:
        p.join()
    time.sleep(3)
    after = (server.rss_mb(), server.fds())
    if not server.alive():
        raise SystemExit(f"tmon-server died under abuse:\n{server.log_tail()}")
    q99, l99 = percentile(quiet, 99), percentile(loud, 99)
    ratio = l99 / q99 if q99 > 0 else float("nan")
    print(f"    quiet: {len(quiet)} requests, p50 {percentile(quiet, 50):.2f} ms, p99 {q99:.2f} ms, errors {quiet_err}")
    print(f"    abuse: {len(loud)} requests, p50 {percentile(loud, 50):.2f} ms, p99 {l99:.2f} ms, errors {loud_err}; "
          f"p99 ratio {ratio:.2f}x ({'within' if ratio <= 2 else 'OVER'} the 2x target)")
    for s in sorted(seen, key=lambda s: s["kind"]):
        extra = {k: v for k, v in s.items() if k not in ("kind",)}
        print(f"    {s['kind']:17s} {extra}")
    print(f"    server RSS {before[0]:.1f} MB before, {max(x[1] for x in samples):.1f} max during, {after[0]:.1f} after; "
          f"fds {before[1]} / {max(x[2] for x in samples)} / {after[1]}")
    summary += [
        ("c abuse", "honest p99 quiet / under abuse", f"{q99:.2f} / {l99:.2f} ms = {ratio:.2f}x (target <= 2x)"),
        ("c abuse", "honest errors quiet / under abuse", f"{quiet_err} / {loud_err}"),
        ("c abuse", "RSS before/max during/after",
         f"{before[0]:.0f} / {max(x[1] for x in samples):.0f} / {after[0]:.0f} MB"),
        ("c abuse", "fds before/max during/after", f"{before[1]} / {max(x[2] for x in samples)} / {after[1]}"),
    ]
    for s in sorted(seen, key=lambda s: s["kind"]):
        summary.append(("c abuse", s["kind"], f"{s['connections']} conns, {s['closed_by_server']} closed by server"
                        + (f", statuses {s['statuses']}" if s["statuses"] else "")
                        + (f", blocked {s['blocked']}x" if s.get("blocked") else "")))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--server", help="tmon-server binary (default: BUILD/examples/tmon-server, built if missing)")
    ap.add_argument("--build", default=os.path.join(ROOT, "build-bench"), help="Release build folder (default build-bench)")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--storage", default="sqlite", choices=["sqlite", "jsonl", "memory"])
    ap.add_argument("--threads", type=int, default=0, help="server io threads (default: the server's)")
    ap.add_argument("--phases", default="a,b,c", help="which of a,b,c to run (default all)")
    ap.add_argument("--connections", type=int, default=1000, help="(a) keep-alive connections")
    ap.add_argument("--seconds", type=float, default=60, help="(a) duration")
    ap.add_argument("--client-procs", type=int, default=2, help="(a) client processes")
    ap.add_argument("--ingest-minutes", type=float, default=5, help="(b) duration")
    ap.add_argument("--subscribers", type=int, default=50, help="(b) WebSocket subscribers")
    ap.add_argument("--writers", type=int, default=4, help="(b) writer connections, one run each")
    ap.add_argument("--batch-rate", type=float, default=100, help="(b) batches/s, all writers together")
    ap.add_argument("--batch-points", type=int, default=20, help="(b) steps per batch (4 keys each)")
    ap.add_argument("--sample-seconds", type=float, default=5, help="(b) RSS/fd sampling period")
    ap.add_argument("--abuse-seconds", type=float, default=30, help="(c) quiet and abusive measurement, each")
    ap.add_argument("--honest", type=int, default=8, help="(c) honest clients")
    ap.add_argument("--pace-ms", type=float, default=5, help="(c) pause between an honest client's requests")
    ap.add_argument("--abusers", default=",".join(ABUSERS),
                    help=f"(c) which abusive clients, comma-separated (default all: {','.join(ABUSERS)})")
    args = ap.parse_args()
    phases = set(args.phases.split(","))
    unknown = set(args.abusers.split(",")) - set(ABUSERS)
    if unknown:
        ap.error(f"unknown abusers: {', '.join(sorted(unknown))}")

    raise_fd_limit()
    exe = args.server or build_server(args.build, args.jobs)
    workdir = tempfile.mkdtemp(prefix="tmon-soak.")
    server = Server(exe, args.storage, workdir, args.threads)
    summary = []
    t0 = time.time()
    try:
        print(f"tmon-server ({args.storage}) on port {server.port}, pid {server.proc.pid}, in {workdir}; "
              f"RSS {server.rss_mb():.1f} MB, fds {server.fds()}", flush=True)
        if "a" in phases:
            phase_keepalive(server, args, summary)
        if "b" in phases:
            phase_ingest(server, args, summary)
        if "c" in phases:
            phase_abuse(server, args, summary)
        if not server.alive():
            raise SystemExit(f"tmon-server died:\n{server.log_tail()}")
        status, _ = http_once(server.port, "GET", "/health")
        summary.append(("end", "server still answers /health", f"{status} after {time.time() - t0:.0f} s"))
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    width = max(len(m) for _, m, _ in summary)
    print("\nsummary")
    print(f"  {'phase':13s} {'measure':{width}s}  value")
    for phase, measure, value in summary:
        print(f"  {phase:13s} {measure:{width}s}  {value}")


if __name__ == "__main__":
    main()
