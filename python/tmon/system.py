"""System samples of the machine the trainer runs on: CPU and memory from
/proc, this process's RSS, and NVIDIA GPUs through NVML loaded with ctypes
(no pynvml). No /proc (not Linux) or no NVML simply leaves those fields out."""
import ctypes
import os
import time

_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def _cpu_times():
    try:
        with open("/proc/stat", "rb") as f:
            fields = f.readline().split()[1:]
    except OSError:
        return None
    values = [int(x) for x in fields[:8]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)  # idle + iowait
    return sum(values), idle


def _meminfo():
    out = {}
    try:
        with open("/proc/meminfo", "rb") as f:
            for line in f:
                key, _, rest = line.partition(b":")
                if key in (b"MemTotal", b"MemAvailable"):
                    out[key.decode()] = int(rest.split()[0]) * 1024
    except OSError:
        pass
    return out


def _rss():
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[1]) * _PAGE
    except (OSError, IndexError, ValueError):
        return None


class _Utilization(ctypes.Structure):
    _fields_ = [("gpu", ctypes.c_uint), ("memory", ctypes.c_uint)]


class _Memory(ctypes.Structure):
    _fields_ = [("total", ctypes.c_ulonglong), ("free", ctypes.c_ulonglong), ("used", ctypes.c_ulonglong)]


class Nvml:
    """The few NVML calls a sample needs. available is False when the
    library is missing or nvmlInit fails (no driver): then gpus() is []."""

    def __init__(self):
        self.available = False
        self._lib = None
        for name in ("libnvidia-ml.so.1", "libnvidia-ml.so"):
            try:
                self._lib = ctypes.CDLL(name)
                break
            except OSError:
                continue
        if self._lib is None:
            return
        try:
            init = getattr(self._lib, "nvmlInit_v2", None) or self._lib.nvmlInit
            self.available = init() == 0
        except (AttributeError, OSError):
            self.available = False

    def _fn(self, *names):
        for n in names:
            f = getattr(self._lib, n, None)
            if f is not None:
                return f
        raise AttributeError(names[0])

    def gpus(self):
        if not self.available:
            return []
        try:
            count = ctypes.c_uint(0)
            if self._fn("nvmlDeviceGetCount_v2", "nvmlDeviceGetCount")(ctypes.byref(count)) != 0:
                return []
            get_handle = self._fn("nvmlDeviceGetHandleByIndex_v2", "nvmlDeviceGetHandleByIndex")
            out = []
            for i in range(count.value):
                h = ctypes.c_void_p()
                if get_handle(ctypes.c_uint(i), ctypes.byref(h)) != 0:
                    continue
                g = {"index": i}
                name = ctypes.create_string_buffer(96)
                if self._lib.nvmlDeviceGetName(h, name, ctypes.c_uint(96)) == 0:
                    g["name"] = name.value.decode("utf-8", "replace")
                util = _Utilization()
                if self._lib.nvmlDeviceGetUtilizationRates(h, ctypes.byref(util)) == 0:
                    g["utilization"] = float(util.gpu)
                mem = _Memory()
                if self._lib.nvmlDeviceGetMemoryInfo(h, ctypes.byref(mem)) == 0:
                    g["memory_used"] = int(mem.used)
                    g["memory_total"] = int(mem.total)
                temp = ctypes.c_uint(0)
                if self._lib.nvmlDeviceGetTemperature(h, ctypes.c_int(0), ctypes.byref(temp)) == 0:
                    g["temperature"] = float(temp.value)
                power = ctypes.c_uint(0)
                if self._lib.nvmlDeviceGetPowerUsage(h, ctypes.byref(power)) == 0:
                    g["power"] = power.value / 1000.0  # milliwatts -> watts
                out.append(g)
            return out
        except (AttributeError, OSError):
            return []


class SystemSampler:
    """sample() returns one sample in the shape GET /api/system/status uses."""

    def __init__(self, gpus=True):
        self._last_cpu = _cpu_times()
        self._nvml = Nvml() if gpus else None

    def sample(self):
        s = {"timestamp": time.time()}
        now = _cpu_times()
        if now is not None and self._last_cpu is not None:
            total = now[0] - self._last_cpu[0]
            idle = now[1] - self._last_cpu[1]
            s["cpu_percent"] = round(100.0 * (total - idle) / total, 2) if total > 0 else 0.0
        self._last_cpu = now
        mem = _meminfo()
        if "MemTotal" in mem:
            total = mem["MemTotal"]
            used = total - mem.get("MemAvailable", 0)
            s["memory_total"] = total
            s["memory_used"] = used
            s["memory_percent"] = round(100.0 * used / total, 2) if total else 0.0
        rss = _rss()
        if rss is not None:
            s["process_rss"] = rss
        gpus = self._nvml.gpus() if self._nvml is not None else []
        if gpus:
            s["gpus"] = gpus
            first = gpus[0]
            for src, dst in (("utilization", "gpu_utilization"), ("memory_used", "gpu_memory_used"),
                             ("memory_total", "gpu_memory_total")):
                if src in first:
                    s[dst] = first[src]
        return s


def sample():
    """One sample now (CPU percent since the previous call of this sampler is
    0 on the first call; use SystemSampler for a running figure)."""
    return SystemSampler().sample()
