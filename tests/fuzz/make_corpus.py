#!/usr/bin/env python3
"""Writes the seed corpora of tests/fuzz/corpus/<target>/seed-*: valid and
nearly valid inputs (requests, responses, frames, bodies from docs/API.md, store
lines as jsonl_store writes them, client journal records) for the fuzzer to start from. Deterministic; rerun
after editing, and commit the result. Files named crash-* are inputs that once
crashed a target: this script never touches them.

    python3 tests/fuzz/make_corpus.py
"""
import os
import struct
import sys
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")


def write(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, "seed-" + name), "wb") as f:
        f.write(data)


def clear_seeds(target):
    d = os.path.join(CORPUS, target)
    if os.path.isdir(d):
        for f in os.listdir(d):
            if f.startswith("seed-"):
                os.remove(os.path.join(d, f))


# ---- HTTP requests -----------------------------------------------------------
RUN_BODY = '{"name":"resnet","config":{"lr":0.001},"tags":["sweep"],"notes":"","total_steps":1000,"id":"run_1"}'
METRICS_BODY = '{"points":[{"step":1,"metrics":{"loss":0.5,"lr":0.001}},{"step":2,"metrics":{"loss":0.4}}]}'


def http(method, target, headers=(), body=b"", version="HTTP/1.1", eol="\r\n"):
    head = f"{method} {target} {version}{eol}" + "".join(f"{k}: {v}{eol}" for k, v in headers) + eol
    return head.encode() + (body.encode() if isinstance(body, str) else body)


def chunked(*pieces, trailers=()):
    out = b""
    for p in pieces:
        out += f"{len(p):x}\r\n".encode() + p.encode() + b"\r\n"
    out += b"0\r\n" + "".join(f"{k}: {v}\r\n" for k, v in trailers).encode() + b"\r\n"
    return out


def http_seeds():
    t = "fuzz_http_parser"
    H = [("Host", "127.0.0.1:8000")]
    js = [("Content-Type", "application/json")]
    write(t, "get", http("GET", "/health", H))
    write(t, "get-query", http("GET", "/api/runs?status=running&q=res%20net&limit=5&offset=0", H))
    write(t, "get-metrics", http("GET", "/api/runs/run_1/metrics?keys=loss,lr&max_points=200&method=minmax", H))
    write(t, "percent-path", http("GET", "/api/runs/run%5F1/checkpoints", H))
    write(t, "absolute-form", http("GET", "http://127.0.0.1:8000/api/version?x=1", H))
    write(t, "asterisk", http("OPTIONS", "*", H))
    write(t, "post-run", http("POST", "/api/runs", H + js + [("Content-Length", str(len(RUN_BODY)))], RUN_BODY))
    write(t, "post-metrics-chunked",
          http("POST", "/api/runs/run_1/metrics", H + js + [("Transfer-Encoding", "chunked")],
               chunked(METRICS_BODY[:20], METRICS_BODY[20:])))
    write(t, "chunked-ext-trailer",
          http("POST", "/api/runs", H + [("Transfer-Encoding", "chunked")],
               b"5;name=value\r\nhello\r\n0\r\nX-Checksum: 1\r\n\r\n"))
    write(t, "put", http("PUT", "/api/runs/run_1", H + js + [("Content-Length", "22")], '{"status":"completed"}'))
    write(t, "delete", http("DELETE", "/api/checkpoints/ckpt_1", H + [("Authorization", "Bearer s3cret")]))
    write(t, "head", http("HEAD", "/", H))
    write(t, "pipelined",
          http("GET", "/health", H) + http("POST", "/api/runs", H + [("Content-Length", "15")], '{"name":"pipe"}')
          + http("GET", "/api/runs?token=abc", H + [("Connection", "close")]))
    write(t, "http10-keepalive", http("GET", "/health", [("Connection", "keep-alive")], version="HTTP/1.0"))
    write(t, "http10", http("GET", "/health", [], version="HTTP/1.0"))
    write(t, "expect-continue",
          http("POST", "/api/runs", H + [("Expect", "100-continue"), ("Content-Length", "15")]) )
    write(t, "ws-upgrade",
          http("GET", "/ws", H + [("Upgrade", "websocket"), ("Connection", "keep-alive, Upgrade"),
                                  ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="), ("Sec-WebSocket-Version", "13")])
          + b"\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58")
    write(t, "conflicting-length", http("POST", "/", [("Content-Length", "3"), ("Content-Length", "4")], "abcd"))
    write(t, "length-and-chunked", http("POST", "/", [("Content-Length", "3"), ("Transfer-Encoding", "chunked")], "abc"))
    write(t, "te-gzip", http("POST", "/", [("Transfer-Encoding", "gzip, chunked")], chunked("x")))
    write(t, "http2", http("GET", "/", H, version="HTTP/2.0"))
    write(t, "folded", b"GET / HTTP/1.1\r\nX-A: 1\r\n  folded\r\n\r\n")
    write(t, "leading-blank-lines", b"\r\n\r\n" + http("GET", "/", H))
    write(t, "bare-lf", http("GET", "/health", H, eol="\n"))
    write(t, "huge-length", http("POST", "/", [("Content-Length", "99999999999999999")]))
    write(t, "bad-chunk-size", http("POST", "/", [("Transfer-Encoding", "chunked")], b"zz\r\nabc\r\n0\r\n\r\n"))
    write(t, "control-in-target", b"GET /a\x01b HTTP/1.1\r\n\r\n")
    write(t, "bad-percent", http("GET", "/api/runs/%zz/%4", H))
    write(t, "long-header", http("GET", "/", [("X-Long", "a" * 300)]))
    write(t, "incomplete", b"POST /api/runs HTTP/1.1\r\nContent-Length: 100\r\n\r\n{\"name\":")


# ---- WebSocket frames ------------------------------------------------------------
def frame(op, payload=b"", fin=True, mask=b"\x37\xfa\x21\x3d", rsv=0, length=None):
    if isinstance(payload, str):
        payload = payload.encode()
    n = len(payload) if length is None else length
    b0 = (0x80 if fin else 0) | (rsv << 4) | op
    mbit = 0x80 if mask is not None else 0
    if n < 126:
        head = bytes([b0, mbit | n])
    elif n <= 0xFFFF:
        head = bytes([b0, mbit | 126]) + struct.pack(">H", n)
    else:
        head = bytes([b0, mbit | 127]) + struct.pack(">Q", n)
    if mask is None:
        return head + payload
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return head + mask + masked


def ws_seeds():
    t = "fuzz_ws_frames"
    SERVER, CLIENT, CAP200, CAP16, STRUCT = 0x00, 0x01, 0x02, 0x04, 0x08
    sub = '{"type":"subscribe","run_id":"*"}'
    write(t, "text", bytes([SERVER]) + frame(1, sub))
    write(t, "binary", bytes([SERVER]) + frame(2, bytes(range(40))))
    write(t, "fragmented-with-ping",
          bytes([SERVER]) + frame(1, sub[:10], fin=False) + frame(9, "p") + frame(0, sub[10:20], fin=False)
          + frame(10, "") + frame(0, sub[20:]))
    write(t, "close-1000", bytes([SERVER]) + frame(8, b"\x03\xe8bye"))
    write(t, "close-empty", bytes([SERVER]) + frame(8))
    write(t, "close-bad-code", bytes([SERVER]) + frame(8, b"\x03\xed"))
    write(t, "close-one-byte", bytes([SERVER]) + frame(8, b"\x03"))
    write(t, "ping-pong", bytes([SERVER]) + frame(9, "hello") + frame(10, "hello"))
    write(t, "len16", bytes([SERVER]) + frame(2, b"x" * 300))
    write(t, "len64-header", bytes([SERVER]) + frame(2, b"abc", length=1 << 40)[:14] + b"abc")
    write(t, "unmasked-client", bytes([CLIENT]) + frame(1, '{"type":"pong"}', mask=None))
    write(t, "unmasked-to-server", bytes([SERVER]) + frame(1, "x", mask=None))
    write(t, "bad-utf8", bytes([SERVER]) + frame(1, b"\xed\xa0\x80 surrogate"))
    write(t, "utf8-split-over-fragments",
          bytes([SERVER]) + frame(1, b"caf\xc3", fin=False) + frame(0, b"\xa9 \xf0\x9f\x98", fin=False) + frame(0, b"\x80"))
    write(t, "rsv", bytes([SERVER]) + frame(1, "x", rsv=4))
    write(t, "opcode-3", bytes([SERVER]) + frame(3, "x"))
    write(t, "continuation-first", bytes([SERVER]) + frame(0, "x"))
    write(t, "control-fragmented", bytes([SERVER]) + frame(9, "x", fin=False))
    write(t, "control-too-long", bytes([SERVER]) + frame(9, b"x" * 126))
    write(t, "too-big", bytes([SERVER | CAP16]) + frame(1, "a" * 10, fin=False) + frame(0, "b" * 10))
    write(t, "cap200", bytes([SERVER | CAP200]) + frame(2, b"y" * 150, fin=False) + frame(0, b"z" * 40))
    write(t, "new-message-mid-fragment", bytes([SERVER]) + frame(1, "a", fin=False) + frame(1, "b"))
    # Structured mode: [control byte, length byte, payload] per frame (see fuzz_ws_frames.cpp).
    write(t, "structured-text", bytes([STRUCT, 0x0c, 5]) + b"hello")
    write(t, "structured-fragments",
          bytes([STRUCT, 0x04, 3]) + b"abc" + bytes([0x00, 2]) + b"pi" + bytes([0x0c, 3]) + b"def")
    write(t, "structured-close", bytes([STRUCT, 0x02, 4]) + b"\x03\xe8ok")
    write(t, "structured-client", bytes([STRUCT | CLIENT, 0x7b, 4]) + b"\x00\x01\x02\x03")


# ---- WebSocket handshake -------------------------------------------------------------
def handshake_seeds():
    t = "fuzz_ws_handshake"
    H = [("Host", "127.0.0.1:8000")]
    good = H + [("Upgrade", "websocket"), ("Connection", "Upgrade"),
                ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="), ("Sec-WebSocket-Version", "13")]
    write(t, "valid", http("GET", "/ws", good))
    write(t, "valid-token", http("GET", "/ws?token=s3cret", good + [("Origin", "http://127.0.0.1:8000")]))
    write(t, "keepalive-upgrade",
          http("GET", "/ws", H + [("Upgrade", "WebSocket"), ("Connection", "keep-alive, Upgrade"),
                                  ("Sec-WebSocket-Key", "AAAAAAAAAAAAAAAAAAAAAA=="), ("Sec-WebSocket-Version", "13")]))
    write(t, "lowercase", http("GET", "/ws", [(k.lower(), v) for k, v in good]))
    write(t, "no-key", http("GET", "/ws", good[:3] + [("Sec-WebSocket-Version", "13")]))
    write(t, "short-key", http("GET", "/ws", good[:3] + [("Sec-WebSocket-Key", "abc"), ("Sec-WebSocket-Version", "13")]))
    write(t, "version-8", http("GET", "/ws", good[:4] + [("Sec-WebSocket-Version", "8")]))
    write(t, "no-upgrade", http("GET", "/ws", H))
    write(t, "http10", http("GET", "/ws", good, version="HTTP/1.0"))
    write(t, "post", http("POST", "/ws", good + [("Content-Length", "0")]))
    write(t, "two-connection-headers", http("GET", "/ws", H + [("Connection", "keep-alive"), ("Connection", "upgrade"),
                                                              ("Upgrade", "websocket"),
                                                              ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
                                                              ("Sec-WebSocket-Version", "13")]))
    # Field mode (first byte not A-Z): method, version and headers from bytes.
    write(t, "fields-valid", bytes([0x00, 1, 0, 1, 5, 1, 0, 1, 0, 1, 1, 1, 3, 1, 2, 1, 5, 1, 3, 1, 7]))
    write(t, "fields-random", bytes([0x01, 0, 3]) + b"GeT" + bytes([1, 3, 0, 4]) + b"Upgr" + bytes([0, 5]) + b"webso")


# ---- request bodies -------------------------------------------------------------------
def body_seeds():
    t = "fuzz_json_bodies"
    bodies = {
        "0": [RUN_BODY, '{"name":"x"}', '{"name":"  "}', '{"name":"r","id":"../etc"}', '{"name":"r","total_steps":3.0}',
              '{"name":"r","total_steps":-1}', '{"name":"r","status":"failed","config":null,"tags":null}',
              '{"name":"r","config":{"a":[1,{"b":[true,null,"\\u00e9\\ud83d\\ude00"]}],"n":-0.0,"big":1e308}}'],
        "1": ['{"status":"completed"}', '{"name":"renamed","tags":["a","b"],"notes":"n","total_steps":10}',
              '{"status":"bogus"}', '{"config":{"lr":1e-3}}', '[]'],
        "2": [METRICS_BODY, '{"step":100,"metrics":{"loss":0.5,"lr":0.001},"timestamp":1730000000.5}',
              '[{"step":1,"metrics":{"a":1}},{"step":2,"metrics":{"a":2}}]', '{"step":2.5,"metrics":{"a":1}}',
              '{"step":1,"metrics":{"a":"1"}}', '{"step":1e19,"metrics":{"a":1}}', '{"points":{}}',
              '{"step":9223372036854775807,"metrics":{"":1}}', '{"step":1,"metrics":{"a":1e999}}'],
        "3": ['{"filepath":"ckpt/step1.pt","step":1,"metrics":{"loss":0.5},"metadata":{"epoch":1},"is_best":true}',
              '{"filepath":"x","id":"ckpt_1","is_best":1}', '{"filepath":""}', '{"step":1}'],
        "4": ['{"run_id":"exp1","step":100,"timestamp":1730000000.5,"layers":[{"name":"conv1","activations":{"mean":0.1,'
              '"std":1.0,"min":-3,"max":4,"histogram":{"counts":[1,5,9],"min":-3,"max":4}},"gradients":{"mean":0},'
              '"parameters":{"histogram":[1,2,3]}}]}',
              '{"run_id":"exp1","step":1,"layers":[]}', '{"run_id":"a b","step":1,"layers":[1]}',
              '{"run_id":"x","step":1,"layers":[{"name":"l","activations":{"histogram":{}}}]}'],
        "5": ['{"type":"subscribe","run_id":"run_123"}', '{"type":"subscribe","run_id":"*"}',
              '{"type":"unsubscribe","run_id":"run_123"}', '{"type":"ping"}', '{"type":"nope"}', '{"type":1}', '"ping"'],
        "6": ['{"a":[1,2,{"b":null}],"c":"\\u0000\\n"}', "[" * 64 + "]" * 64, "[" * 65 + "]" * 65,
              '{"s":"\xc3\xa9"}', '[1e400, -1e-400, 123456789012345678901234567890]', '{"a":1}garbage',
              '"\\ud800"', '  \t\n true  '],
    }
    for sel, items in bodies.items():
        for i, b in enumerate(items):
            write(t, f"{sel}-{i}", sel + b)
    # The remote-trainer routes (selectors 7..;, see fuzz_json_bodies.cpp).
    write(t, "heartbeat", '7{"host":"node-1","rank":2}')
    write(t, "system-samples", '8{"samples":[{"timestamp":1730000000.5,"cpu_percent":12.5,"memory_percent":40,'
          '"memory_used":1024,"gpus":[{"index":0,"name":"H100","utilization":97,"power":310.2}]}],"host":"n1","rank":0}')
    write(t, "trainer-event", '9{"id":"evt_1","type":"warning","message":"m","data":{"a":1}}')
    write(t, "command", ':{"type":"stop","payload":{},"checkpoint_id":"ckpt_1"}')
    write(t, "command-ack", ';{"status":"ok","message":"done"}')
    write(t, "6-bad-utf8", b"6" + b'{"s":"\xff\xfe"}')
    write(t, "6-nul", b"6" + b'{"a":1}\x00{"b":2}')


# ---- jsonl store files ----------------------------------------------------------------
RUN_LINES = r'''{"run":{"id":"run_a","name":"resnet","status":"running","config":{"lr":0.1,"batch":128,"opt":{"name":"sgd","m":[0.9,0.99]}},"tags":["sweep","a\"b"],"notes":"","start_time":1730000000.5,"end_time":null,"created_at":1730000000.5,"updated_at":1730000000.5,"total_steps":1000,"last_step":null},"events":[{"id":1,"run_id":"run_a","time":1730000000.5,"type":"run_created","message":"run 'resnet' created","data":{"name":"resnet","status":"running"}}]}
{"run":{"id":"run_a","name":"resnet","status":"completed","config":{"lr":0.1,"batch":128,"opt":{"name":"sgd","m":[0.9,0.99]}},"tags":["sweep","a\"b"],"notes":"done\nline two","start_time":1730000000.5,"end_time":1730000200.25,"created_at":1730000000.5,"updated_at":1730000200.25,"total_steps":1000,"last_step":100000000000},"events":[{"id":7,"run_id":"run_a","time":1730000200.25,"type":"status_changed","message":"status running -> completed","data":{"old_status":"running","new_status":"completed"}}]}
'''
METRIC_LINES = '''{"key":"loss","steps":[0,1,2,3],"times":[1730000000.5,1730000001.5,1730000002.5,1730000003.5],"values":[1,0.5,0.3333333333333333,0.25]}
{"key":"lr","steps":[0,1,2,3],"times":[1730000000.5,1730000001.5,1730000002.5,1730000003.5],"values":[0.001,0.001,0.001,0.001]}
{"key":"acc/top1 \u00e9","steps":[0,1,2,3],"times":[1730000000.5,1730000001.5,1730000002.5,1730000003.5],"values":[0,1e-07,2e-07,3e-07]}
{"key":"loss","steps":[2,100000000000],"times":[1730000100.25,1730000100.25],"values":[0.25,-3.5e+300]}
'''
OLD_METRIC_LINES = '''{"key":"loss","step":0,"time":1730000000.5,"value":1}
{"key":"loss","step":1,"time":1730000001.5,"value":0.5}
{"key":"loss","step":1,"time":1730000009.5,"value":0.4}
'''
CHECKPOINT_LINES = r'''{"op":"saved","checkpoint":{"id":"ckpt_1","run_id":"run_a","filepath":"ckpt/step1.pt","step":1,"metrics":{"loss":0.5},"metadata":{},"is_best":true,"created_at":1730000010.5},"events":[{"id":2,"run_id":"run_a","time":1730000010.5,"type":"checkpoint_saved","message":"checkpoint saved: ckpt/step1.pt","data":{"checkpoint_id":"ckpt_1","filepath":"ckpt/step1.pt","step":1,"metrics":{"loss":0.5},"is_best":true}},{"id":3,"run_id":"run_a","time":1730000010.5,"type":"best_changed","message":"best checkpoint: ckpt/step1.pt","data":{"checkpoint_id":"ckpt_1","filepath":"ckpt/step1.pt","previous_best_id":null}}]}
{"op":"saved","checkpoint":{"id":"ckpt_2","run_id":"run_a","filepath":"ckpt/step2.pt","step":2,"metrics":{"loss":0.5},"metadata":{},"is_best":false,"created_at":1730000020.5},"events":[{"id":4,"run_id":"run_a","time":1730000020.5,"type":"checkpoint_saved","message":"checkpoint saved: ckpt/step2.pt","data":{"checkpoint_id":"ckpt_2","filepath":"ckpt/step2.pt","step":2,"metrics":{"loss":0.5},"is_best":false}}]}
{"op":"best","checkpoint":{"id":"ckpt_2","run_id":"run_a","filepath":"ckpt/step2.pt","step":2,"metrics":{"loss":0.5},"metadata":{},"is_best":true,"created_at":1730000020.5},"events":[{"id":5,"run_id":"run_a","time":1730000021.5,"type":"best_changed","message":"best checkpoint: ckpt/step2.pt","data":{"checkpoint_id":"ckpt_2","filepath":"ckpt/step2.pt","previous_best_id":"ckpt_1"}}]}
{"op":"deleted","checkpoint":{"id":"ckpt_1","run_id":"run_a","filepath":"ckpt/step1.pt","step":1,"metrics":{"loss":0.5},"metadata":{},"is_best":false,"created_at":1730000010.5},"events":[{"id":6,"run_id":"run_a","time":1730000030.5,"type":"checkpoint_deleted","message":"checkpoint deleted: ckpt/step1.pt","data":{"checkpoint_id":"ckpt_1","filepath":"ckpt/step1.pt","step":1,"metrics":{"loss":0.5},"is_best":false}}]}
'''
LAYER_LINES = '''{"run_id":"run_a","step":3,"time":1730000003,"layers":[{"name":"conv1","activations":{"mean":0.1,"std":1,"min":-3,"max":4,"histogram":{"counts":[1,5,9],"min":-3,"max":4}},"gradients":{"mean":0,"std":0.01,"min":-0.1,"max":0.1}},{"name":"fc"}]}
{"run_id":"run_a","step":1,"time":1730000001,"layers":[{"name":"conv1"}]}
'''
RUN_EVENT_LINES = '''{"id":8,"run_id":"run_a","time":1730000002,"type":"warning","message":"loss is NaN at step 7","data":{"step":7}}
'''
SYSTEM_LINES = '''{"time":1730000001,"cpu_percent":12.5,"memory_percent":40.1,"memory_used":8589934592,"memory_total":34359738368,"process_rss":123456789,"gpus":[{"index":0,"name":"NVIDIA H100","utilization":97,"memory_used":17179869184,"memory_total":85899345920,"temperature":61,"power":310.2}]}
{"time":1730000000,"cpu_percent":1,"memory_percent":2,"memory_used":3,"memory_total":4,"process_rss":5,"gpus":[]}
'''
GLOBAL_EVENT_LINES = '''{"id":9,"run_id":"","time":1730000002.5,"type":"note","message":"global","data":{}}
'''
RUN_B = '''{"run":{"id":"run_b","name":"vit","status":"failed","config":{},"tags":[],"notes":"","start_time":1730000005,"end_time":1730000006,"created_at":1730000005,"updated_at":1730000006,"total_steps":null,"last_step":null},"events":[]}
'''


def store(*files):
    return "\x01".join(files).encode()


def jsonl_seeds():
    t = "fuzz_jsonl_replay"
    full = [RUN_LINES, METRIC_LINES, CHECKPOINT_LINES, LAYER_LINES, RUN_EVENT_LINES, SYSTEM_LINES, GLOBAL_EVENT_LINES]
    write(t, "full", store(*full))
    write(t, "two-runs", store(*full, RUN_B, '{"key":"acc","steps":[5],"times":[1730000005],"values":[0.9]}\n',
                              CHECKPOINT_LINES.replace('"run_id":"run_a"', '"run_id":"run_b"'), "", ""))
    write(t, "same-id-twice", store(*full, RUN_LINES, OLD_METRIC_LINES))
    write(t, "torn-last-line", store(RUN_LINES, METRIC_LINES + '{"key":"loss","steps":[4],"ti'))
    write(t, "old-format", store(RUN_LINES, OLD_METRIC_LINES))
    write(t, "malformed-lines", store(RUN_LINES, "not json\n[1,2]\n{}\n" + METRIC_LINES + "\n\n{\"key\":1}\n",
                                      "{\"op\":\"saved\"}\n", "{\"layers\":5}\n", "{\"id\":\"x\"}\n"))
    write(t, "mismatched-columns",
          store(RUN_LINES, '{"key":"a","steps":[1,2],"times":[1],"values":[1,2]}\n'
                           '{"key":"a","steps":[1,"2"],"times":[1,2],"values":[1,2]}\n'
                           '{"key":"a","steps":[],"times":[],"values":[]}\n'))
    write(t, "number-edges",
          store(RUN_LINES, '{"key":"e","steps":[-1,0,9007199254740993,9223372036854775807],'
                           '"times":[-0.0,1e308,5e-324,0],"values":[-1e308,0,1.7976931348623157e308,-0]}\n'))
    write(t, "events-out-of-order",
          store(RUN_LINES, "", "", "", '{"id":12,"run_id":"run_a","time":3}\n{"id":10,"run_id":"run_a","time":1}\n'
                                       '{"id":10,"run_id":"run_a","time":1}\n{"id":11,"run_id":"run_a","time":2}\n',
                "", '{"id":2,"time":1}\n{"id":1,"time":0}\n'))
    write(t, "run-only", store(RUN_LINES))
    write(t, "no-run-line", store("", METRIC_LINES, CHECKPOINT_LINES))
    write(t, "deep-config", store('{"run":{"id":"run_d","name":"d","config":' + '{"a":' * 70 + "1" + "}" * 70 + "}}\n"))
    write(t, "crlf", store(RUN_LINES.replace("\n", "\r\n"), METRIC_LINES.replace("\n", "\r\n")))
    # Direct mode (first byte 0x02): the same parts, straight to the parsers and readers.
    write(t, "direct-full", b"\x02" + store(*full))
    write(t, "direct-malformed", b"\x02" + store(RUN_LINES, "not json\n[1,2]\n{}\n" + METRIC_LINES + OLD_METRIC_LINES,
                                                "{\"op\":\"saved\"}\n", "{\"layers\":5}\n", "{\"id\":\"x\"}\n"))
    write(t, "direct-number-edges",
          b"\x02" + store(RUN_LINES, '{"key":"e","steps":[-1,1e300,9223372036854775808],"times":[1e400,-0.0,5e-324],'
                                     '"values":[0e-40,1,2]}\n', "", "", '{"id":1e300,"time":"x"}\n',
                          '{"time":1,"memory_used":-5,"process_rss":1e30,"gpus":[{"index":1e20}]}\n'))


# ---- HTTP responses (what the remote client reads) -------------------------------------
def response(status, reason="OK", headers=(), body=b"", version="HTTP/1.1", eol="\r\n"):
    head = f"{version} {status} {reason}{eol}" + "".join(f"{k}: {v}{eol}" for k, v in headers) + eol
    return head.encode() + (body.encode() if isinstance(body, str) else body)


def response_seeds():
    t = "fuzz_http_response"
    js = [("Content-Type", "application/json")]
    ok = '{"status":"ok","message":"stored"}'
    run = '{"id":"run_1","name":"resnet","status":"running"}'
    write(t, "200-length", response(200, "OK", js + [("Content-Length", str(len(ok)))], ok))
    write(t, "201-length", response(201, "Created", js + [("Content-Length", str(len(run)))], run))
    write(t, "200-chunked", response(200, "OK", js + [("Transfer-Encoding", "chunked")], chunked(run[:10], run[10:])))
    write(t, "chunked-ext-trailer",
          response(200, "OK", [("Transfer-Encoding", "chunked")], b"5;name=value\r\nhello\r\n0\r\nX-Checksum: 1\r\n\r\n"))
    write(t, "close-delimited", response(200, "OK", js + [("Connection", "close")], run, version="HTTP/1.0"))
    write(t, "close-delimited-11", response(200, "OK", js, run))
    write(t, "204", response(204, "No Content"))
    write(t, "204-with-length", response(204, "No Content", [("Content-Length", "5")]) + response(200, "OK", [("Content-Length", "0")]))
    write(t, "304-with-chunked", response(304, "Not Modified", [("Transfer-Encoding", "chunked")]) + response(204))
    write(t, "100-then-200", response(100, "Continue") + response(200, "OK", [("Content-Length", "2")], "{}"))
    write(t, "103-early-hints", response(103, "Early Hints", [("Link", "</style.css>; rel=preload")])
          + response(201, "Created", [("Content-Length", "2")], "{}"))
    write(t, "101", response(101, "Switching Protocols", [("Upgrade", "websocket"), ("Connection", "Upgrade")]) + b"\x81\x02hi")
    write(t, "keep-alive-sequence",
          response(204, "No Content") + response(200, "OK", [("Content-Length", "2")], "{}")
          + response(503, "Service Unavailable", [("Retry-After", "3"), ("Content-Length", "0"), ("Connection", "close")]))
    write(t, "429-retry-after", response(429, "Too Many Requests", js + [("Retry-After", "120"), ("Content-Length", "31")],
                                         '{"detail":"slow down, 120 s"}  '))
    write(t, "http10-keepalive", response(200, "OK", [("Connection", "keep-alive"), ("Content-Length", "2")], "{}",
                                          version="HTTP/1.0"))
    write(t, "empty-reason", b"HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n")
    write(t, "status-999", response(999, "Weird", [("Content-Length", "1")], "x"))
    write(t, "status-099", response(99, "Low", [("Content-Length", "1")], "x").replace(b" 99 ", b" 099 "))
    write(t, "reason-tab", response(200, "O\tK", [("Content-Length", "0")]))
    write(t, "conflicting-length", response(200, "OK", [("Content-Length", "3"), ("Content-Length", "4")], "abcd"))
    write(t, "same-length-twice", response(200, "OK", [("Content-Length", "4"), ("Content-Length", "4")], "abcd"))
    write(t, "length-and-chunked", response(200, "OK", [("Content-Length", "3"), ("Transfer-Encoding", "chunked")], chunked("abc")))
    write(t, "te-gzip", response(200, "OK", [("Transfer-Encoding", "gzip")], "x"))
    write(t, "chunked-http10", response(200, "OK", [("Transfer-Encoding", "chunked")], chunked("x"), version="HTTP/1.0"))
    write(t, "huge-length", response(200, "OK", [("Content-Length", "99999999999999999")]))
    write(t, "huge-chunk", response(200, "OK", [("Transfer-Encoding", "chunked")], b"fffffffffffffff\r\nabc"))
    write(t, "bad-chunk-size", response(200, "OK", [("Transfer-Encoding", "chunked")], b"zz\r\nabc\r\n0\r\n\r\n"))
    write(t, "chunk-no-crlf", response(200, "OK", [("Transfer-Encoding", "chunked")], b"3\r\nabcX\r\n0\r\n\r\n"))
    write(t, "truncated-body", response(200, "OK", [("Content-Length", "100")], '{"id":'))
    write(t, "bare-lf", response(200, "OK", [("Content-Length", "2")], "{}", eol="\n"))
    write(t, "folded", b"HTTP/1.1 200 OK\r\nX-A: 1\r\n  folded\r\nContent-Length: 0\r\n\r\n")
    write(t, "http2", b"HTTP/2 200\r\n\r\n")
    write(t, "not-http", b"SSH-2.0-OpenSSH_9.2\r\n\r\n")
    write(t, "leading-blank-lines", b"\r\n\r\n" + response(200, "OK", [("Content-Length", "0")]))
    write(t, "long-header", response(200, "OK", [("X-Long", "a" * 300), ("Content-Length", "0")]))


# ---- the remote client's journal ------------------------------------------------------------
def journal_record(kind, method, path, body, points=0, crc=None, length=None):
    payload = bytes([kind, method]) + struct.pack("<IH", points, len(path)) + path.encode() + body.encode()
    c = zlib.crc32(payload) & 0xFFFFFFFF if crc is None else crc
    n = len(payload) if length is None else length
    return struct.pack("<II", n, c) + payload


def journal_input(records, ack=None, ack_bytes=None, fix_crc=False, ack_first=False):
    """Control byte (see fuzz_client_journal.cpp), then the .ack file, then the journal."""
    ack_file = b"" if ack is None else struct.pack("<Q", ack)
    if ack_bytes is not None:
        ack_file = ack_bytes
    control = len(ack_file) | (0x10 if fix_crc else 0) | (0x20 if ack_first else 0)
    return bytes([control]) + ack_file + b"".join(records)


def journal_seeds():
    t = "fuzz_client_journal"
    run = journal_record(1, 1, "/api/runs", '{"name":"resnet","id":"run_1"}')
    m1 = journal_record(2, 1, "/api/runs/run_1/metrics", '{"step":1,"metrics":{"loss":0.5}}', points=1)
    m2 = journal_record(2, 1, "/api/runs/run_1/metrics", '{"step":2,"metrics":{"loss":0.4}},{"step":3,"metrics":{"loss":0.3}}', points=2)
    put = journal_record(1, 2, "/api/runs/run_1", '{"status":"completed"}')
    ckpt = journal_record(1, 1, "/api/runs/run_1/checkpoints", '{"filepath":"ckpt/step1.pt","step":1}')
    good = [run, m1, m2, ckpt, put]
    write(t, "several", journal_input(good))
    write(t, "several-ack-first", journal_input(good, ack_first=True))
    write(t, "acked-prefix", journal_input(good, ack=len(run) + len(m1)))
    write(t, "acked-all", journal_input(good, ack=sum(map(len, good))))
    write(t, "ack-past-end", journal_input(good[:2], ack=1 << 20))
    write(t, "ack-mid-record", journal_input(good, ack=len(run) + 3))
    write(t, "ack-short-file", journal_input(good, ack_bytes=b"\x05\x00\x00"))
    write(t, "ack-long-file", journal_input(good, ack_bytes=struct.pack("<Q", len(run)) + b"junk"))
    write(t, "empty", journal_input([]))
    write(t, "empty-ack-past-end", journal_input([], ack=43, ack_first=True))
    write(t, "torn-tail", journal_input(good[:3] + [put[:len(put) // 2]]))
    write(t, "torn-header", journal_input(good[:2] + [put[:5]]))
    write(t, "flipped-crc", journal_input([run, journal_record(2, 1, "/m", "1", points=1, crc=0xDEADBEEF), put]))
    write(t, "flipped-body-byte", journal_input([run, m1[:-3] + b"X" + m1[-2:], put]))
    write(t, "huge-length", journal_input([run, struct.pack("<II", 0xFFFFFFFF, 0) + b"abcdefgh", put]))
    write(t, "length-64mib", journal_input([run, struct.pack("<II", 64 << 20, 0) + b"abcdefgh"]))
    write(t, "length-below-8", journal_input([run, journal_record(1, 1, "", "", length=5)]))
    write(t, "path-past-payload", journal_input([run, journal_record(1, 1, "/p", "", length=None)[:14]
                                                 + b"\xff\xff" + b"/p"], fix_crc=True))
    write(t, "bad-kind", journal_input([journal_record(3, 1, "/api/runs", "{}"), run]))
    write(t, "methods", journal_input([journal_record(1, m, "/x", "{}") for m in (0, 1, 2, 3, 9)]))
    write(t, "fix-crc-garbage", journal_input([run[:4] + b"\0\0\0\0" + run[8:], m1[:4] + b"\1\2\3\4" + m1[8:]], fix_crc=True))
    write(t, "zeros", journal_input([b"\0" * 64]))


def main():
    for target in ("fuzz_http_parser", "fuzz_ws_frames", "fuzz_ws_handshake", "fuzz_json_bodies", "fuzz_jsonl_replay",
                   "fuzz_http_response", "fuzz_client_journal"):
        clear_seeds(target)
    http_seeds()
    ws_seeds()
    handshake_seeds()
    body_seeds()
    jsonl_seeds()
    response_seeds()
    journal_seeds()
    for target in sorted(os.listdir(CORPUS)):
        print(f"{target}: {len(os.listdir(os.path.join(CORPUS, target)))} files")
    return 0


if __name__ == "__main__":
    sys.exit(main())
