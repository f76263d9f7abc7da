#!/usr/bin/env python3
"""The journal on its own, on real files: records come back in order; acks
taken while the writer keeps appending survive truncations and compactions
(offsets stay meaningful); a torn tail or a corrupt record is cut off with a
warning at reopen, keeping everything before it; the cap refuses a record
without writing any of it.

usage: journal_test.py"""
import json
import logging
import os
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))
from tmon.journal import Journal, encode  # noqa: E402


class Capture(logging.Handler):
    def __init__(self):
        super().__init__()
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


def main():
    cap = Capture()
    logging.getLogger("tmon").addHandler(cap)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "j.bin")

        # A head start of 12 MB, then appends between acks: acks land after
        # compactions (8 MiB acknowledged head) and truncations mid-read.
        j = Journal(path, max_bytes=1 << 40)
        n = 80000
        pad = "x" * 200
        nxt = 0
        while nxt < 50000:
            assert j.append(encode({"i": nxt, "pad": pad}))
            nxt += 1
        seen = []
        while j.pending_bytes() or nxt < n:
            recs = j.read_pending(max_bytes=1 << 20)
            for k in range(0, len(recs), 7):  # ack in small groups, as the sender does per batch
                group = recs[k:k + 7]
                seen.extend(json.loads(r)["i"] for _, r in group)
                j.ack(group[-1][0])
                for _ in range(2):
                    if nxt < n:
                        assert j.append(encode({"i": nxt, "pad": pad}))
                        nxt += 1
        assert seen == list(range(n)), f"records lost or repeated: {len(seen)} seen, first bad " \
            f"{next((x for x, y in zip(range(n), seen) if x != y), None)}"
        assert j.pending_bytes() == 0 and os.path.getsize(path) == 0
        j.close()

        # Torn tail: the records before it survive, the tail is cut, a warning says so.
        j = Journal(path)
        for i in range(10):
            j.append(encode({"i": i}))
        j.close()
        whole = os.path.getsize(path)
        rec = encode({"i": 10})
        with open(path, "ab") as f:
            f.write(rec[:-3])
        j = Journal(path)
        assert j.recovered_records == 10 and j.torn_bytes == len(rec) - 3, (j.recovered_records, j.torn_bytes)
        assert os.path.getsize(path) == whole
        assert [json.loads(r)["i"] for _, r in j.read_pending()] == list(range(10))
        assert any("torn or corrupt record" in m for m in cap.messages), cap.messages
        j.append(encode({"i": 10}))  # appends go on after the cut
        assert [json.loads(r)["i"] for _, r in j.read_pending()][-1] == 10
        j.close()

        # A flipped byte inside record 5 (crc mismatch): records 0..4 kept.
        with open(path, "r+b") as f:
            data = f.read()
            off = 0
            for _ in range(5):
                off += 8 + int.from_bytes(data[off:off + 4], "little")
            f.seek(off + 10)
            f.write(bytes([data[off + 10] ^ 0xFF]))
        j = Journal(path)
        assert [json.loads(r)["i"] for _, r in j.read_pending()] == list(range(5))
        j.close()

        # The cap counts unacknowledged bytes; a refused record writes nothing.
        os.unlink(path)
        one = encode({"v": "y" * 100})
        j = Journal(path, max_bytes=len(one) * 3)
        assert all(j.append(one) for _ in range(3))
        size = os.path.getsize(path)
        assert not j.append(one) and os.path.getsize(path) == size
        assert j.append(one, force=True)
        recs = j.read_pending()
        j.ack(recs[1][0])  # two acknowledged: room for two more under the cap, minus the forced one
        assert j.append(one) and not j.append(one)
        j.close()
    print(f"journal_test: ok: {n} records through interleaved append/ack with compactions; torn tail and "
          f"corrupt record cut with a warning; cap exact")


if __name__ == "__main__":
    main()
