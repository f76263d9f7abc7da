#!/usr/bin/env python3
"""The package works with no third-party module: under `python3 -I -S` (no
site-packages, no user site, no PYTHON* variables) a whole session (run,
metrics, checkpoint, event, layer statistics, close) reaches a real server,
only standard-library modules get imported, and `import tmon.torch` fails
with a message that says what to install. Run twice: from the source tree,
and from `pip install ./python` (into a folder, when pip is there).

usage: isolated_test.py TMON_SERVER"""
import os
import shutil
import subprocess
import sys
import tempfile

from tmon_testlib import PYTHON_DIR, Server

SESSION = r"""
import sys
sys.path.insert(0, sys.argv[1])
import tmon, json, urllib.request
url, jdir = sys.argv[2], sys.argv[3]
assert tmon.__file__.startswith(sys.argv[1]), tmon.__file__
with tmon.TrainingMonitor("isolated", {"lr": 0.01}, url, journal_dir=jdir, system_interval=0.2) as mon:
    for step in range(500):
        mon.log_metrics({"loss": 1.0 / (step + 1)}, step=step)
    mon.save_checkpoint("/tmp/isolated.pt", {"loss": 0.002}, is_best=True)
    mon.log_layers(499, {"fc": {"parameters": {"mean": 0.0, "std": 1.0, "min": -2.0, "max": 2.0}}})
    assert mon.flush(20), mon.counters
c = mon.counters
assert c.sent == 500 and c.dropped == 0, c
run = json.load(urllib.request.urlopen(f"{url}/api/runs/{mon.run_id}"))
assert run["status"] == "completed" and run["last_step"] == 499, run
try:
    import tmon.torch
    raise SystemExit("tmon.torch imported without torch")
except ImportError as e:
    assert "needs PyTorch" in str(e), e
if hasattr(sys, "stdlib_module_names"):
    third = sorted({m.split(".")[0] for m in sys.modules} - set(sys.stdlib_module_names) - {"tmon", "__main__"})
    assert not third, f"non-standard modules imported: {third}"
assert "site" not in sys.modules or not any("-packages" in p for p in sys.path[1:]), sys.path
print("session ok", mon.run_id)
"""


def run_session(srv, path, tmp):
    out = subprocess.run([sys.executable, "-I", "-S", "-c", SESSION, path, srv.url, os.path.join(tmp, "j")],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=120, env={})
    assert out.returncode == 0 and "session ok" in out.stdout, out.stdout
    return out.stdout.split()[-1]


def main():
    with tempfile.TemporaryDirectory() as tmp:
        srv = Server(sys.argv[1], tmp).start()
        run_session(srv, PYTHON_DIR, tmp)
        how = "source tree"
        # An offline build (--no-index --no-build-isolation) needs pip and setuptools here, and
        # wheel too for setuptools older than 70.1 (Debian 12 has all three).
        probe = subprocess.run([sys.executable, "-c", "import setuptools as s, pip\n"
                                "v = tuple(int(x) for x in s.__version__.split('.')[:2])\n"
                                "v >= (70, 1) or __import__('wheel')"], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT)
        if probe.returncode == 0:
            src = os.path.join(tmp, "src")
            shutil.copytree(PYTHON_DIR, src, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
            site = os.path.join(tmp, "site")
            inst = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                                   "--no-build-isolation", "--no-index", "--target", site, src],
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=300)
            assert inst.returncode == 0, inst.stdout
            assert os.path.exists(os.path.join(site, "tmon", "monitor.py"))
            run_session(srv, site, tmp)
            how += " and pip install ./python"
        else:
            print("isolated_test: note: no pip/setuptools/wheel for this python; pip install ./python not tried")
        srv.terminate()
    print(f"isolated_test: ok: python3 -I -S, standard library only ({how})")


if __name__ == "__main__":
    main()
