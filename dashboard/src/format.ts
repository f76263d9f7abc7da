// Text formatting for a dense terminal: short, fixed-ish width, never "NaN".

export function formatDuration(seconds: number | null | undefined): string {
  if (seconds == null || !Number.isFinite(seconds) || seconds < 0) return "--";
  const s = Math.floor(seconds);
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${pad2(m)}m`;
  if (m > 0) return `${m}m ${pad2(sec)}s`;
  return `${sec}s`;
}

/** Seconds left at the average rate so far, or null when it cannot be told. */
export function etaSeconds(lastStep: number | null, totalSteps: number | null, elapsedS: number): number | null {
  if (lastStep == null || totalSteps == null || totalSteps <= 0 || !(elapsedS > 0)) return null;
  if (lastStep >= totalSteps) return 0;
  if (lastStep <= 0) return null;
  const rate = lastStep / elapsedS;
  return (totalSteps - lastStep) / rate;
}

export function formatEta(lastStep: number | null, totalSteps: number | null, elapsedS: number): string {
  const eta = etaSeconds(lastStep, totalSteps, elapsedS);
  return eta == null ? "--" : eta === 0 ? "done" : formatDuration(eta);
}

const UNITS = ["B", "KB", "MB", "GB", "TB", "PB"];
export function formatBytes(bytes: number | null | undefined): string {
  if (bytes == null || !Number.isFinite(bytes) || bytes < 0) return "--";
  let v = bytes;
  let u = 0;
  while (v >= 1024 && u < UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${v} B` : `${v < 10 ? v.toFixed(2) : v < 100 ? v.toFixed(1) : v.toFixed(0)} ${UNITS[u]}`;
}

export function runHours(startIso: string | null, endIso: string | null, nowMs: number): number {
  if (!startIso) return 0;
  const start = Date.parse(startIso);
  const end = endIso ? Date.parse(endIso) : nowMs;
  if (!Number.isFinite(start) || !Number.isFinite(end) || end < start) return 0;
  return (end - start) / 3_600_000;
}

export function formatCost(amount: number, currency = "$"): string {
  if (!Number.isFinite(amount) || amount < 0) return "--";
  if (amount < 0.01 && amount > 0) return `<${currency}0.01`;
  if (amount >= 1000) return `${currency}${Math.round(amount).toLocaleString("en-US")}`;
  return `${currency}${amount.toFixed(2)}`;
}

/** Metric values: compact, keeping significance for both 0.000123 and 123456. */
export function formatValue(v: number | null | undefined): string {
  if (v == null || !Number.isFinite(v)) return "--";
  const a = Math.abs(v);
  if (a === 0) return "0";
  if (a >= 1e6 || a < 1e-3) return v.toExponential(2);
  if (a >= 1000) return v.toFixed(0);
  if (a >= 100) return v.toFixed(1);
  if (a >= 1) return v.toFixed(3);
  return v.toPrecision(3);
}

export function formatPercent(v: number | null | undefined): string {
  return v == null || !Number.isFinite(v) ? "--" : `${v.toFixed(0)}%`;
}

/** ISO timestamp -> "2025-10-07 14:32:05" in local time. */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return "--";
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) return "--";
  const d = new Date(t);
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
}

export function formatClock(unixS: number): string {
  const d = new Date(unixS * 1000);
  return `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
}

export function formatStep(step: number | null | undefined): string {
  if (step == null || !Number.isFinite(step)) return "--";
  return step >= 1e6 ? `${(step / 1e6).toFixed(step >= 1e7 ? 1 : 2)}M` : step >= 1e4 ? `${(step / 1e3).toFixed(1)}k` : String(step);
}

function pad2(n: number): string {
  return n < 10 ? "0" + n : String(n);
}
