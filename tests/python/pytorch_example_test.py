#!/usr/bin/env python3
"""examples/python/train_pytorch.py trains its small CNN on CPU against a real
tmon-server: every step's loss/accuracy arrives, its checkpoints are
registered (one marked best), per-layer statistics arrive every
--layer-every steps, and GET /api/runs/{id}/layers/heatmap serves them.
Exits 77 (skipped) when torch cannot be imported.

usage: pytorch_example_test.py TMON_SERVER"""
import os
import subprocess
import sys
import tempfile

from tmon_testlib import ROOT, Server, child_env

STEPS, EVERY, CKPT = 60, 20, 30


def main():
    probe = subprocess.run([sys.executable, "-c", "import torch"], stderr=subprocess.PIPE, text=True)
    if probe.returncode != 0:
        print("pytorch_example_test: SKIPPED: torch cannot be imported (install python3-torch: "
              "scripts/install_deps.sh test): " + probe.stderr.strip().splitlines()[-1])
        return 77
    with tempfile.TemporaryDirectory() as tmp:
        srv = Server(sys.argv[1], tmp).start()
        out = subprocess.run([sys.executable, os.path.join(ROOT, "examples", "python", "train_pytorch.py"),
                              "--url", srv.url, "--steps", str(STEPS), "--layer-every", str(EVERY), "--ckpt-every",
                              str(CKPT), "--ckpt-dir", tmp, "--journal-dir", os.path.join(tmp, "j")],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=child_env(),
                             timeout=600)
        assert out.returncode == 0, out.stdout
        run_id = out.stdout.split("run_id ", 1)[1].split()[0]
        run = srv.get(f"/api/runs/{run_id}")
        assert run["status"] == "completed" and run["last_step"] == STEPS - 1, run
        assert run["config"]["model"] == "SmallCNN", run["config"]
        for key in ("loss", "accuracy", "lr"):
            steps, values = srv.series(run_id, key)
            assert steps == list(range(STEPS)), (key, steps[:5], len(steps))
        loss = srv.series(run_id, "loss")[1]
        assert all(v > 0 for v in loss)
        cks = srv.get(f"/api/runs/{run_id}/checkpoints")["checkpoints"]
        assert len(cks) == STEPS // CKPT, cks
        assert sum(c["is_best"] for c in cks) == 1 and all(os.path.exists(c["filepath"]) for c in cks), cks
        layers = srv.get(f"/api/runs/{run_id}/layers")
        want_steps = list(range(0, STEPS, EVERY))
        assert layers["steps"] == want_steps, layers
        assert layers["layers"] == ["conv1", "conv2", "fc1", "fc2"], layers
        snap = srv.get(f"/api/runs/{run_id}/layers/{EVERY}")
        conv1 = next(l for l in snap["layers"] if l["name"] == "conv1")
        for part in ("activations", "gradients", "parameters"):
            st = conv1[part]
            assert st["min"] <= st["mean"] <= st["max"] and st["std"] >= 0, (part, st)
            assert sum(st["histogram"]["counts"]) > 0, (part, st)
        assert sum(conv1["activations"]["histogram"]["counts"]) == 32 * 8 * 16 * 16  # batch x channels x H x W
        for stat in ("gradients.std", "activations.mean", "parameters.max"):
            hm = srv.get(f"/api/runs/{run_id}/layers/heatmap?stat={stat}")
            assert hm["steps"] == want_steps and hm["layers"] == layers["layers"], hm
            assert len(hm["values"]) == 4 and all(len(r) == len(want_steps) for r in hm["values"]), hm
            assert all(v is not None for r in hm["values"] for v in r), hm
        grads = srv.get(f"/api/runs/{run_id}/layers/heatmap?stat=gradients.std")["values"]
        assert any(v > 0 for r in grads for v in r), grads
        srv.terminate()
    print(f"pytorch_example_test: ok: {STEPS} steps of a CNN on CPU, 3 metrics, {len(cks)} checkpoints, "
          f"{len(want_steps)} layer snapshots x 4 layers served by the heatmap")
    return 0


if __name__ == "__main__":
    sys.exit(main())
