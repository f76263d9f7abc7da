import { describe, expect, it, vi } from "vitest";
import { pageToken, withToken, wsUrl } from "../src/api";
import { LiveSocket, backoffDelay } from "../src/ws";

describe("reconnect backoff", () => {
  it("doubles from 1s and caps at 30s", () => {
    expect([0, 1, 2, 3, 4, 5, 6, 20].map((a) => backoffDelay(a))).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
  });
});

describe("token passing", () => {
  it("takes ?token= from the page and appends it to API and WS URLs", () => {
    expect(pageToken("?token=s3cr%20t&x=1")).toBe("s3cr t");
    expect(pageToken("")).toBeNull();
    expect(withToken("/api/runs", "a b")).toBe("/api/runs?token=a%20b");
    expect(withToken("/api/runs?limit=1", "t")).toBe("/api/runs?limit=1&token=t");
    expect(withToken("/api/runs", null)).toBe("/api/runs");
    expect(wsUrl({ protocol: "https:", host: "h:1" }, "t")).toBe("wss://h:1/ws?token=t");
    expect(wsUrl({ protocol: "http:", host: "h:1" }, null)).toBe("ws://h:1/ws");
  });
});

class FakeSocket {
  static all: FakeSocket[] = [];
  readyState = 0;
  sent: string[] = [];
  onopen: (() => void) | null = null;
  onclose: (() => void) | null = null;
  onmessage: ((e: { data: string }) => void) | null = null;
  onerror: (() => void) | null = null;
  constructor(public url: string) {
    FakeSocket.all.push(this);
  }
  send(s: string) {
    this.sent.push(s);
  }
  close() {
    this.readyState = 3;
    this.onclose?.();
  }
  open() {
    this.readyState = 1;
    this.onopen?.();
  }
}

describe("LiveSocket", () => {
  it("subscribes on open, reconnects with backoff, re-subscribes and reports the reconnect", () => {
    vi.useFakeTimers();
    FakeSocket.all = [];
    const states: string[] = [];
    const messages: unknown[] = [];
    const s = new LiveSocket({
      url: "ws://x/ws",
      subscriptions: () => ["*"],
      onMessage: (m) => messages.push(m),
      onState: (st, d) => states.push(`${st}${d.reconnected ? "+re" : ""}${d.retryInMs != null ? "@" + d.retryInMs : ""}`),
      createSocket: (u) => new FakeSocket(u) as unknown as WebSocket,
    });
    s.start();
    FakeSocket.all[0].open();
    expect(FakeSocket.all[0].sent.map((x) => JSON.parse(x))).toEqual([{ type: "subscribe", run_id: "*" }]);
    FakeSocket.all[0].onmessage!({ data: '{"type":"pong"}' });
    FakeSocket.all[0].onmessage!({ data: "not json" });
    expect(messages).toEqual([{ type: "pong" }]);

    FakeSocket.all[0].close();
    expect(states.at(-1)).toBe("closed@1000");
    vi.advanceTimersByTime(999);
    expect(FakeSocket.all.length).toBe(1);
    vi.advanceTimersByTime(1);
    expect(FakeSocket.all.length).toBe(2);
    FakeSocket.all[1].close(); // refused again: wait twice as long
    expect(states.at(-1)).toBe("closed@2000");
    vi.advanceTimersByTime(2000);
    FakeSocket.all[2].open();
    expect(states.at(-1)).toBe("open+re");
    expect(FakeSocket.all[2].sent.map((x) => JSON.parse(x).type)).toEqual(["subscribe"]);
    FakeSocket.all[2].close(); // after a successful open the backoff starts over
    expect(states.at(-1)).toBe("closed@1000");
    s.stop();
    vi.useRealTimers();
  });
});
