"""Append-only on-disk journal: every record the sender will post is written
here first, and cut away once the server acknowledged it, so a crash of the
trainer or of the server loses nothing that reached the journal.

Record layout: 4-byte little-endian payload length, 4-byte zlib.crc32 of the
payload, then the payload: compact JSON (UTF-8), or for metric points
b"m<values>\n" and the points' JSON objects joined by commas, which the
sender splices into a request body as they are (no parsing, no garbage). A torn last record (the
process died mid-write) fails its length or crc check and is cut off with a
warning when the journal is opened again.
"""
import json
import logging
import os
import struct
import threading
import zlib

log = logging.getLogger("tmon")

_HEADER = struct.Struct("<II")
_MAX_RECORD = 256 << 20  # a length above this is garbage, not a record
_READ_CHUNK = 4 << 20


def frame(payload):
    return _HEADER.pack(len(payload), zlib.crc32(payload)) + payload


def encode(record):
    return frame(json.dumps(record, separators=(",", ":"), allow_nan=False).encode("utf-8"))


class Journal:
    """One journal file. Thread-safe: the writer thread appends, the sender
    thread reads from the acknowledged offset and acknowledges."""

    def __init__(self, path, max_bytes=256 << 20, fsync=False):
        self.path = path
        self.max_bytes = int(max_bytes)
        self.fsync = fsync
        self._lock = threading.Lock()
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
        self._acked = 0  # bytes before this offset are acknowledged
        self._size = 0
        # Bytes cut from the file's head since it was opened: offsets handed
        # to the sender are logical (file offset + _base), so an ack taken
        # after a truncation or compaction still means the same record.
        self._base = 0
        self.recovered_records = 0
        self.recovered_bytes = 0
        self.torn_bytes = 0
        self._recover()

    # ---- opening ----------------------------------------------------------------
    def _recover(self):
        size = os.fstat(self._fd).st_size
        off = 0
        count = 0
        while off < size:
            head = os.pread(self._fd, _HEADER.size, off)
            if len(head) < _HEADER.size:
                break
            length, crc = _HEADER.unpack(head)
            if length > _MAX_RECORD or off + _HEADER.size + length > size:
                break
            payload = os.pread(self._fd, length, off + _HEADER.size)
            if len(payload) != length or zlib.crc32(payload) != crc:
                break
            off += _HEADER.size + length
            count += 1
        if off < size:
            self.torn_bytes = size - off
            log.warning("tmon: journal %s: torn or corrupt record at offset %d skipped (%d bytes cut off; "
                        "the process writing it probably died mid-write)", self.path, off, size - off)
            os.ftruncate(self._fd, off)
        self._size = off
        self.recovered_records = count
        self.recovered_bytes = off

    # ---- writing ----------------------------------------------------------------
    def append(self, data, force=False):
        """Appends one encoded record. Returns False (and writes nothing) when
        the unacknowledged bytes would pass max_bytes, unless force."""
        with self._lock:
            if not force and (self._size - self._acked) + len(data) > self.max_bytes:
                return False
            try:
                written = os.write(self._fd, data)
                while written < len(data):  # short writes are rare but legal
                    written += os.write(self._fd, data[written:])
                if self.fsync:
                    os.fsync(self._fd)
            except OSError:
                try:  # no half record left behind (a full disk): the file ends at the last whole one
                    os.ftruncate(self._fd, self._size)
                except OSError:
                    pass
                raise
            self._size += len(data)
            return True

    # ---- reading and acknowledging -------------------------------------------------
    def read_pending(self, max_bytes=_READ_CHUNK):
        """Records from the acknowledged offset on, as (end_offset, payload
        bytes) pairs; at least one record when any is pending, however large."""
        with self._lock:
            start, end = self._acked, self._size
            out = []
            off = start
            while off < end and (off - start) < max_bytes:
                length, _crc = _HEADER.unpack(os.pread(self._fd, _HEADER.size, off))
                payload = os.pread(self._fd, length, off + _HEADER.size)
                off += _HEADER.size + length
                out.append((off + self._base, payload))
            return out

    def ack(self, offset):
        """Everything before offset reached the server: truncate when all of
        it did, compact when the acknowledged head grew large."""
        with self._lock:
            offset -= self._base
            if offset <= self._acked:
                return
            self._acked = min(offset, self._size)
            if self._acked == self._size:
                os.ftruncate(self._fd, 0)
                self._base += self._size
                self._acked = self._size = 0
            elif self._acked >= (8 << 20) and self._acked * 2 >= self._size:
                self._compact()

    def _compact(self):
        tmp = self.path + ".tmp"
        fd = os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            off = self._acked
            while off < self._size:
                chunk = os.pread(self._fd, min(_READ_CHUNK, self._size - off), off)
                os.write(fd, chunk)
                off += len(chunk)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, self.path)  # atomic: a crash leaves the old or the new file, both valid
        os.close(self._fd)
        self._fd = os.open(self.path, os.O_RDWR | os.O_APPEND)
        self._size -= self._acked
        self._base += self._acked
        self._acked = 0

    # ---- state ------------------------------------------------------------------
    def pending_bytes(self):
        with self._lock:
            return self._size - self._acked

    def sync(self):
        with self._lock:
            os.fsync(self._fd)

    def close(self, remove_if_empty=False):
        with self._lock:
            if self._fd < 0:
                return
            empty = self._size == self._acked
            os.close(self._fd)
            self._fd = -1
            if remove_if_empty and empty:
                try:
                    os.unlink(self.path)
                except OSError:
                    pass
