// Rebuild the dashboard into a temporary folder and check that the committed header
// include/tmon/dashboard/assets.hpp is what the generator makes from it (exit 1 when stale).
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const dashboard = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const repo = resolve(dashboard, "..");
const work = mkdtempSync(join(tmpdir(), "tmon-embed-"));
let code = 0;
try {
  const dist = join(work, "dist");
  execFileSync(process.execPath, [join(dashboard, "node_modules/vite/bin/vite.js"), "build", "--outDir", dist, "--logLevel", "warn"], {
    cwd: dashboard,
    stdio: "inherit",
  });
  try {
    execFileSync("python3", [join(repo, "scripts/embed_dashboard.py"), "--dist", dist, "--check"], { stdio: "inherit" });
  } catch (err) {
    code = err.status ?? 1;
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
process.exit(code);
