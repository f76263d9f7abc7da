#!/usr/bin/env python3
"""Trains a small CNN on generated images (CPU) and reports it to tmon-server:
loss/accuracy/lr every step, a checkpoint every --ckpt-every steps (the best
one marked), per-layer activation/gradient/parameter statistics every
--layer-every steps, and it stops when the dashboard's STOP arrives.

    tmon-server --port 8000 &
    python3 examples/python/train_pytorch.py --url http://127.0.0.1:8000 --steps 300

Runs from the source tree (python/ is put on sys.path) or with tmon installed.
"""
import argparse
import os
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))

import torch  # noqa: E402
from torch import nn  # noqa: E402

from tmon import TrainingMonitor  # noqa: E402
from tmon.torch import watch  # noqa: E402


def make_data(n, size=16, classes=4, seed=0):
    """Images whose class is the quadrant holding a bright blob, plus noise."""
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, classes, (n,), generator=g)
    x = torch.randn(n, 1, size, size, generator=g)
    half = size // 2
    for i in range(n):
        r, c = divmod(int(y[i]), 2)
        x[i, 0, r * half:(r + 1) * half, c * half:(c + 1) * half] += 0.6
    return x, y


class SmallCNN(nn.Module):
    def __init__(self, classes=4):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, padding=1)
        self.conv2 = nn.Conv2d(8, 16, 3, padding=1)
        self.pool = nn.MaxPool2d(2)
        self.fc1 = nn.Linear(16 * 4 * 4, 32)
        self.fc2 = nn.Linear(32, classes)

    def forward(self, x):
        x = self.pool(torch.relu(self.conv1(x)))
        x = self.pool(torch.relu(self.conv2(x)))
        return self.fc2(torch.relu(self.fc1(x.flatten(1))))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--url", default=os.environ.get("TMON_URL", "http://127.0.0.1:8000"))
    ap.add_argument("--run-name", default="pytorch-cnn")
    ap.add_argument("--run-id", default=None)
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=0.02)
    ap.add_argument("--layer-every", type=int, default=25)
    ap.add_argument("--ckpt-every", type=int, default=100)
    ap.add_argument("--ckpt-dir", default=None)
    ap.add_argument("--journal-dir", default=None)
    args = ap.parse_args(argv)

    torch.manual_seed(0)
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    x, y = make_data(2048)
    model = SmallCNN()
    opt = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    ckpt_dir = args.ckpt_dir or tempfile.mkdtemp(prefix="tmon-ckpt-")
    config = {"lr": args.lr, "batch_size": args.batch, "model": "SmallCNN", "steps": args.steps}

    with TrainingMonitor(args.run_name, config, args.url, run_id=args.run_id, total_steps=args.steps,
                         journal_dir=args.journal_dir) as mon:
        print(f"run_id {mon.run_id}", flush=True)
        best = float("inf")
        with watch(mon, model, every=args.layer_every) as layers:
            for step in range(args.steps):
                idx = torch.randint(0, x.shape[0], (args.batch,))
                out = model(x[idx])
                loss = loss_fn(out, y[idx])
                opt.zero_grad()
                loss.backward()
                opt.step()
                layers.step(step)
                acc = (out.argmax(1) == y[idx]).float().mean().item()
                mon.log_metrics({"loss": loss.item(), "accuracy": acc, "lr": args.lr}, step=step)
                if (step + 1) % args.ckpt_every == 0 or step + 1 == args.steps:
                    path = os.path.join(ckpt_dir, f"model_{step + 1}.pt")
                    torch.save(model.state_dict(), path)
                    is_best = loss.item() < best
                    best = min(best, loss.item())
                    mon.save_checkpoint(path, {"loss": loss.item(), "accuracy": acc}, is_best=is_best)
                for cmd in mon.poll_commands():
                    print(f"command {cmd.type}", flush=True)
                if mon.stop_requested:
                    print(f"stopped at step {step}", flush=True)
                    break
        print(f"layer steps {len(layers.sent_steps)} final loss {loss.item():.4f} accuracy {acc:.3f}", flush=True)
    c = mon.counters
    print(f"sent {c.sent} dropped {c.dropped} retries {c.retries}", flush=True)


if __name__ == "__main__":
    main()
