// Shared by the e2e test and the benchmark: the real tmon-server, a REST training client,
// and Debian's chromium driven by playwright-core (never a downloaded browser).
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

export const dashboardDir = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const repoDir = resolve(dashboardDir, "..");

export function serverBin() {
  const candidates = [
    process.env.TMON_SERVER_BIN,
    join(repoDir, "build-dashboard/examples/tmon-server"),
    join(repoDir, "build/examples/tmon-server"),
  ].filter(Boolean);
  const found = candidates.find((p) => existsSync(p));
  if (!found) throw new Error(`tmon-server not found (tried ${candidates.join(", ")}); build it or set TMON_SERVER_BIN`);
  return found;
}

export function tempDir(prefix) {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once("error", rej);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}

/** Starts tmon-server and resolves once it prints its URL. */
export async function startServer({ port, db, extraArgs = [] }) {
  const args = ["--host", "127.0.0.1", "--port", String(port), "--storage", "sqlite", "--db", db, "--log-level", "warn", ...extraArgs];
  if (process.env.E2E_STATIC_DIR) args.push("--static-dir", process.env.E2E_STATIC_DIR);
  const proc = spawn(serverBin(), args, { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  const url = await new Promise((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`tmon-server did not start:\n${output}`)), 15000);
    const onData = (d) => {
      output += d;
      const m = /serving (http:\/\/[^\s]+)/.exec(output);
      if (m) {
        clearTimeout(timer);
        res(m[1].replace(/\/$/, ""));
      }
    };
    proc.stdout.on("data", onData);
    proc.stderr.on("data", (d) => (output += d));
    proc.once("exit", (code) => {
      clearTimeout(timer);
      rej(new Error(`tmon-server exited with ${code}:\n${output}`));
    });
  });
  proc.removeAllListeners("exit");
  const stop = () =>
    new Promise((res) => {
      if (proc.exitCode != null) return res();
      proc.once("exit", () => res());
      proc.kill("SIGTERM");
      setTimeout(() => proc.exitCode == null && proc.kill("SIGKILL"), 10000).unref();
    });
  return { proc, url, port, stop, output: () => output };
}

/** A REST client; `headers` go on every request (a remote trainer's X-Tmon-Host / X-Tmon-Rank). */
export function client(base, token, headers = {}) {
  const withToken = (p) => (token ? p + (p.includes("?") ? "&" : "?") + "token=" + token : p);
  async function call(method, path, body) {
    const res = await fetch(base + withToken(path), {
      method,
      headers: body === undefined ? { ...headers } : { ...headers, "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let json;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = text;
    }
    if (!res.ok) {
      const err = new Error(`${method} ${path} -> ${res.status} ${text.slice(0, 300)}`);
      err.status = res.status;
      throw err;
    }
    return json;
  }
  return {
    call,
    get: (p) => call("GET", p),
    post: (p, b) => call("POST", p, b ?? {}),
    put: (p, b) => call("PUT", p, b),
    del: (p) => call("DELETE", p),
  };
}

/** A small training run fed over REST: metrics, checkpoints and per-layer statistics. */
export async function feedRun(api, { name, steps = 300, totalSteps = 1000, layers = 8, layerSteps = 12, checkpoints = 3, seed = 1 }) {
  const run = await api.post("/api/runs", {
    name,
    config: { lr: 3e-4, batch_size: 128, model: { depth: layers, width: 256 }, optimizer: "adamw" },
    tags: ["e2e"],
    total_steps: totalSteps,
  });
  const t0 = Date.now() / 1000 - steps;
  const points = [];
  for (let s = 0; s < steps; s++) {
    const loss = 2.5 * Math.exp(-s / (120 * seed)) + 0.1 + 0.05 * Math.sin(s / 3 + seed);
    const lr = 3e-4 * Math.min(1, (s + 1) / 50) * (0.5 + 0.5 * Math.cos((Math.PI * s) / totalSteps));
    points.push({ step: s, timestamp: t0 + s, metrics: { loss, lr, accuracy: 1 - loss / 3, grad_norm: 1 + Math.abs(Math.sin(s / 7)) } });
  }
  await api.post(`/api/runs/${run.id}/metrics`, { points });
  const ckpts = [];
  for (let i = 0; i < checkpoints; i++) {
    const step = Math.floor(((i + 1) * steps) / (checkpoints + 1));
    ckpts.push(
      await api.post(`/api/runs/${run.id}/checkpoints`, {
        filepath: `/ckpt/${name}/step_${step}.pt`,
        step,
        metrics: { loss: points[step].metrics.loss, accuracy: points[step].metrics.accuracy },
        metadata: { optimizer: "adamw", epoch: i },
        is_best: false,
      }),
    );
  }
  for (let k = 0; k < layerSteps; k++) {
    const step = Math.floor((k * steps) / layerSteps);
    const ls = [];
    for (let l = 0; l < layers; l++) {
      const g = Math.exp(-l / 3) * (1 + k / layerSteps) * 0.01;
      const stat = (scale) => ({ mean: 0.01 * l, std: scale, min: -3 * scale, max: 3 * scale, histogram: { counts: [1, 4, 9, 16, 9, 4, 1].map((c) => c * (l + 1)), min: -3 * scale, max: 3 * scale } });
      ls.push({ name: `layer${l}.${l % 2 ? "attn" : "mlp"}`, activations: stat(1 + l * 0.1), gradients: stat(g), parameters: stat(0.02 + 0.001 * k) });
    }
    await api.post("/api/v1/metrics/layerwise", { run_id: run.id, step, timestamp: t0 + step, layers: ls });
  }
  return { run, ckpts, lastStep: steps - 1 };
}

export async function launchBrowser(viewport = { width: 1600, height: 1000 }) {
  const profile = tempDir("tmon-chromium-");
  const context = await chromium.launchPersistentContext(profile.dir, {
    executablePath: "/usr/bin/chromium",
    headless: true,
    viewport,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    context,
    page,
    close: async () => {
      await context.close();
      profile.remove();
    },
  };
}

export async function waitFor(fn, { timeout = 10000, interval = 50, what = "condition" } = {}) {
  const t0 = Date.now();
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    if (Date.now() - t0 > timeout) throw new Error(`timed out waiting for ${what}${last instanceof Error ? ": " + last.message : ""}`);
    await new Promise((r) => setTimeout(r, interval));
  }
}
