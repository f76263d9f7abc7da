"""PyTorch helpers: per-layer activation, gradient and parameter statistics
(mean, std, min, max, histogram) every N steps, sent to
POST /api/v1/metrics/layerwise through a TrainingMonitor's journal.

    from tmon.torch import watch
    layers = watch(monitor, model, every=50)
    for step, (x, y) in enumerate(data):
        loss = loss_fn(model(x), y)   # forward hooks take activation stats on due steps
        loss.backward()               # gradient hooks take the parameters' gradient stats
        opt.step()
        layers.step(step)             # sends the due step's statistics (and parameter stats)

Only `import tmon.torch` needs torch; `import tmon` never imports it.
"""
import math

try:
    import torch
except ImportError as e:  # pragma: no cover - depends on the machine
    raise ImportError("tmon.torch needs PyTorch (pip install torch, or Debian's python3-torch); "
                      "the rest of tmon works without it") from e

__all__ = ["watch", "LayerWatcher", "tensor_stats"]


def _num(x):
    x = float(x)
    return x if math.isfinite(x) else None  # the server refuses NaN/inf; null means "unknown"


@torch.no_grad()
def tensor_stats(t, bins=32):
    """{"mean","std","min","max","histogram":{"counts","min","max"}} of a
    tensor (all elements, as float32), or None for an empty or non-float one."""
    if not isinstance(t, torch.Tensor) or t.numel() == 0 or not (t.is_floating_point() or t.is_complex()):
        return None
    f = t.detach().float().flatten()
    finite = f[torch.isfinite(f)]
    if finite.numel() == 0:
        return None
    lo, hi = finite.min(), finite.max()
    out = {"mean": _num(finite.mean()), "std": _num(finite.std(unbiased=False)), "min": _num(lo), "max": _num(hi)}
    if bins:
        lo_f, hi_f = float(lo), float(hi)
        if hi_f <= lo_f:
            hi_f = lo_f + 1e-12 if lo_f == 0 else lo_f + abs(lo_f) * 1e-6
        counts = torch.histc(finite, bins=int(bins), min=lo_f, max=hi_f)
        out["histogram"] = {"counts": [int(c) for c in counts.tolist()], "min": lo_f, "max": hi_f}
    return {k: v for k, v in out.items() if v is not None}


def _first_tensor(x):
    if isinstance(x, torch.Tensor):
        return x
    if isinstance(x, (tuple, list)):
        for v in x:
            t = _first_tensor(v)
            if t is not None:
                return t
    if isinstance(x, dict):
        for v in x.values():
            t = _first_tensor(v)
            if t is not None:
                return t
    return None


class LayerWatcher:
    """Hooks on a model's layers (by default every leaf module that owns
    parameters). Every `every` calls of step() the statistics of that step
    are taken: activations by forward hooks, gradients by hooks on the
    parameters' gradients, parameters when step() runs; then sent with
    monitor.log_layers(). Hooks do nothing on the other steps."""

    def __init__(self, monitor, model, every=100, bins=32, layers=None, activations=True, gradients=True,
                 parameters=True):
        if every < 1:
            raise ValueError(f"every must be >= 1, got {every}")
        self.monitor = monitor
        self.every = int(every)
        self.bins = int(bins)
        self.sent_steps = []
        self._calls = 0
        self._armed = True  # the first step is taken
        self._acts = {}
        self._grads = {}
        self._handles = []
        self._modules = []
        for name, mod in model.named_modules():
            if layers is not None:
                if name not in layers and not isinstance(mod, tuple(t for t in layers if isinstance(t, type))):
                    continue
            elif list(mod.children()) or not any(True for _ in mod.parameters(recurse=False)):
                continue
            name = name or type(mod).__name__
            self._modules.append((name, mod))
            if activations:
                self._handles.append(mod.register_forward_hook(self._forward_hook(name)))
            if gradients:
                for p in mod.parameters(recurse=False):
                    if p.requires_grad:
                        self._handles.append(p.register_hook(self._grad_hook(name)))
        self.parameters = parameters
        if not self._modules:
            raise ValueError("no layer to watch: the model has no leaf module with parameters "
                             "(pass layers=[names or module types])")

    @property
    def layer_names(self):
        return [n for n, _ in self._modules]

    def _forward_hook(self, name):
        def hook(_module, _inputs, output):
            if self._armed and name not in self._acts:  # the step's first forward (not a later eval pass)
                st = tensor_stats(_first_tensor(output), self.bins)
                if st is not None:
                    self._acts[name] = st
        return hook

    def _grad_hook(self, name):
        def hook(grad):
            if self._armed:
                self._grads.setdefault(name, []).append(grad.detach().flatten())
            return None
        return hook

    def step(self, step):
        """Call once per training step (after backward / optimizer.step)."""
        if self._armed:
            self._send(step)
        self._calls += 1
        self._armed = self._calls % self.every == 0

    def _send(self, step):
        layers = []
        for name, mod in self._modules:
            entry = {"name": name}
            if name in self._acts:
                entry["activations"] = self._acts[name]
            if name in self._grads:
                st = tensor_stats(torch.cat(self._grads[name]), self.bins)
                if st is not None:
                    entry["gradients"] = st
            if self.parameters:
                ps = [p.detach().flatten() for p in mod.parameters(recurse=False)]
                if ps:
                    st = tensor_stats(torch.cat(ps), self.bins)
                    if st is not None:
                        entry["parameters"] = st
            if len(entry) > 1:
                layers.append(entry)
        self._acts.clear()
        self._grads.clear()
        if layers:
            self.monitor.log_layers(int(step), layers)
            self.sent_steps.append(int(step))

    def remove(self):
        for h in self._handles:
            h.remove()
        self._handles.clear()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()
        return False


def watch(monitor, model, every=100, bins=32, **kwargs):
    """Registers the hooks; returns a LayerWatcher whose step(step) you call
    once per training step."""
    return LayerWatcher(monitor, model, every=every, bins=bins, **kwargs)
