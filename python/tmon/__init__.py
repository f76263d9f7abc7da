"""tmon: report a training run to a tmon-server from Python (standard library only).

    from tmon import TrainingMonitor
    with TrainingMonitor("resnet", config={"lr": 1e-3}, dashboard_url="http://localhost:8000") as mon:
        for step in range(1000):
            mon.log_metrics({"loss": train_step()}, step=step)

PyTorch layer statistics: ``import tmon.torch`` (needs torch).
"""
__version__ = "0.1.0"

from .monitor import Command, Counters, TrainingMonitor  # noqa: E402
from .system import SystemSampler  # noqa: E402

__all__ = ["TrainingMonitor", "Counters", "Command", "SystemSampler", "__version__"]
