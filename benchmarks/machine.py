"""What a benchmark ran on, printed first: costlog's ratios against ccusage's native binary
depend on the processor and on how the Python interpreter was built (docs/performance.md
gives two machines' figures)."""

from __future__ import annotations

import os
import platform
import sys
import sysconfig
from pathlib import Path

from costlog.forked import cores as usable_cores


def processor() -> str:
    """The CPU's model name as the kernel gives it (Linux), else what `platform` says."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def describe() -> str:
    """One line: processor, cores this process may use, load average, the interpreter and
    whether it was configured with `--enable-optimizations`."""
    cores = usable_cores()  # as the scan counts them when it spreads its reads
    load = "/".join(f"{n:.1f}" for n in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
    flags = str(sysconfig.get_config_var("CONFIG_ARGS") or "")
    built = "with" if "--enable-optimizations" in flags else "without"
    return (
        f"machine: {processor()}, {cores} cores, load {load}; "
        f"python {platform.python_version()} ({sys.executable}, configured {built} "
        "--enable-optimizations; a distribution's build may optimize otherwise)"
    )
