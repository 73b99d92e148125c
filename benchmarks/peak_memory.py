"""The peak memory of this process since it started, for the benchmarks' child processes.

`ru_maxrss` is not it on Linux: the kernel keeps the largest resident size across `execve`, so a child spawned
by a benchmark that holds 1.6 GB (the file it just wrote, say) reports 1.6 GB before it has read a byte. The
high-water mark of the process's own memory map (`VmHWM` in `/proc/self/status`) starts again at `execve`; it is
used where it exists, `ru_maxrss` elsewhere.
"""

from __future__ import annotations

import resource
import sys


def peak_mb() -> float:
    """The process's peak resident memory so far, in MB."""
    try:
        with open("/proc/self/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    scale = 1 if sys.platform == "darwin" else 1024  # bytes on macOS, kB elsewhere
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / scale / 1024
