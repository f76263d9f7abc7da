"""One keep-alive HTTP/1.1 connection to tmon-server (http.client), with the
bearer token and the trainer's identity headers on every request."""
import http.client
import json
import re
import socket
import urllib.parse

from . import __version__

_HOST_RE = re.compile(r"[^A-Za-z0-9._-]")

# Errors that mean "the server is not reachable right now": retry later.
NETWORK_ERRORS = (OSError, http.client.HTTPException)


def default_host_name():
    name = _HOST_RE.sub("-", socket.gethostname())[:255]
    return name or "localhost"


class Response:
    __slots__ = ("status", "body", "headers")

    def __init__(self, status, body, headers):
        self.status = status
        self.body = body
        self.headers = headers

    def json(self):
        try:
            return json.loads(self.body) if self.body else None
        except ValueError:
            return None

    def error_text(self):
        data = self.json()
        if isinstance(data, dict) and "error" in data:
            return f"HTTP {self.status} {data.get('error')}: {data.get('detail', '')}"
        return f"HTTP {self.status}"


class Transport:
    def __init__(self, url, token=None, host_name=None, rank=0, timeout=5.0):
        parsed = urllib.parse.urlsplit(url if "://" in url else "http://" + url)
        if parsed.scheme not in ("http", "https"):
            raise ValueError(f"dashboard_url must be http:// or https://, got {url!r}")
        if not parsed.hostname:
            raise ValueError(f"dashboard_url has no host: {url!r}")
        self.url = url
        self._https = parsed.scheme == "https"
        self._host = parsed.hostname
        self._port = parsed.port or (443 if self._https else 80)
        self._prefix = parsed.path.rstrip("/")
        self.timeout = timeout
        self._conn = None
        self._reused = False
        self._headers = {
            "Content-Type": "application/json",
            "User-Agent": f"tmon-python/{__version__}",
            "X-Tmon-Host": host_name or default_host_name(),
            "X-Tmon-Rank": str(int(rank)),
        }
        if token:
            self._headers["Authorization"] = f"Bearer {token}"

    def _connect(self):
        cls = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
        self._conn = cls(self._host, self._port, timeout=self.timeout)
        self._reused = False

    def close(self):
        if self._conn is not None:
            try:
                self._conn.close()
            except OSError:
                pass
        self._conn = None

    def request(self, method, path, body=None):
        """Returns a Response, or raises one of NETWORK_ERRORS. A request on a
        kept-alive connection the server closed meanwhile is retried once on a
        fresh one (the server may have restarted; every write is idempotent)."""
        if body is None or isinstance(body, bytes):
            data = body  # already JSON (metric batches spliced from the journal)
        else:
            data = json.dumps(body, separators=(",", ":"), allow_nan=False).encode("utf-8")
        for attempt in (0, 1):
            if self._conn is None:
                self._connect()
            reused = self._reused
            try:
                self._conn.request(method, self._prefix + path, body=data, headers=self._headers)
                r = self._conn.getresponse()
                payload = r.read()
            except NETWORK_ERRORS as e:
                self.close()
                stale = isinstance(e, (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError))
                if attempt == 0 and reused and stale:
                    continue
                raise
            self._reused = True
            if r.will_close:
                self.close()
            return Response(r.status, payload, r.headers)
        raise AssertionError("unreachable")
