import type { ServerMessage } from "./types";

export type ConnState = "connecting" | "open" | "closed";

/** 1s, 2s, 4s, ... capped at 30s. */
export function backoffDelay(attempt: number, baseMs = 1000, maxMs = 30000): number {
  return Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt));
}

export interface LiveSocketOptions {
  url: string;
  onMessage: (m: ServerMessage) => void;
  onState: (s: ConnState, detail: { attempt: number; retryInMs?: number; reconnected: boolean }) => void;
  subscriptions: () => string[];
  createSocket?: (url: string) => WebSocket;
}

/** A WebSocket that reconnects with exponential backoff and re-subscribes when it comes back. */
export class LiveSocket {
  private ws: WebSocket | null = null;
  private attempt = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private pingTimer: ReturnType<typeof setInterval> | null = null;
  private everOpened = false;
  private stopped = false;
  state: ConnState = "closed";

  constructor(private opts: LiveSocketOptions) {}

  start(): void {
    this.stopped = false;
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.ws?.close();
  }

  send(msg: unknown): void {
    if (this.ws && this.ws.readyState === 1) this.ws.send(JSON.stringify(msg));
  }

  private connect(): void {
    this.setState("connecting", {});
    let ws: WebSocket;
    try {
      ws = (this.opts.createSocket ?? ((u) => new WebSocket(u)))(this.opts.url);
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.ws = ws;
    ws.onopen = () => {
      const reconnected = this.everOpened;
      this.everOpened = true;
      this.attempt = 0;
      for (const id of this.opts.subscriptions()) this.send({ type: "subscribe", run_id: id });
      if (this.pingTimer) clearInterval(this.pingTimer);
      this.pingTimer = setInterval(() => this.send({ type: "ping" }), 25000);
      this.setState("open", { reconnected });
    };
    ws.onmessage = (ev) => {
      let msg: ServerMessage;
      try {
        msg = JSON.parse(typeof ev.data === "string" ? ev.data : "");
      } catch {
        return;
      }
      this.opts.onMessage(msg);
    };
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.ws = null;
      if (this.pingTimer) clearInterval(this.pingTimer);
      if (!this.stopped) this.scheduleReconnect();
    };
    ws.onerror = () => {
      /* onclose follows and schedules the retry */
    };
  }

  private scheduleReconnect(): void {
    const delay = backoffDelay(this.attempt);
    this.attempt++;
    this.setState("closed", { retryInMs: delay });
    this.timer = setTimeout(() => this.connect(), delay);
  }

  private setState(s: ConnState, extra: { retryInMs?: number; reconnected?: boolean }): void {
    this.state = s;
    this.opts.onState(s, { attempt: this.attempt, retryInMs: extra.retryInMs, reconnected: extra.reconnected ?? false });
  }
}
