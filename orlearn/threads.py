"""How many threads torch may use, chosen in one place for every command.

Torch's intra-op pool starts with one thread per physical core, and its OpenMP threads spin at
every barrier. When another process keeps a core busy, each parallel operation waits for the
descheduled thread: on a 2-core machine with one other busy process, beam search over a 51-node
TSP ran 49 times slower with torch's default than with one thread. Threads pay off only for big
batched tensors, and only on cores that are idle, so:

* ``"small"`` work (branching GNNs on one node, TS-DDR's recurrent nets, one solve per worker
  process) runs on 1 thread;
* ``"batched"`` work (constructive decoding and training, inventory simulation over thousands of
  scenarios) runs on the cores that are idle when the command starts: physical cores minus the
  machine's load (the larger of the 1-minute load average and the processes runnable right
  now), at least 1 and at most :data:`MAX_THREADS`.

``--threads N`` on a command, or the environment variable ``ORLEARN_THREADS``, overrides the
choice (the option wins over the variable); without either, an ``OMP_NUM_THREADS`` the user set
(the usual way to pin a job to one thread) is respected too.
"""

from __future__ import annotations

import argparse
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

from orlearn.errors import OrlearnError

log = logging.getLogger(__name__)

#: Environment variable that overrides the default thread count of every command.
ENV_VAR = "ORLEARN_THREADS"
#: Most threads chosen by default: beyond 4, the batches orlearn runs on a CPU gain little.
MAX_THREADS = 4

Workload = Literal["small", "batched"]


def physical_cores() -> int:
    """Physical cores this process may run on (SMT siblings count once)."""
    cpus = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else range(os.cpu_count() or 1)
    cores = set()
    for cpu in cpus:
        topology = Path(f"/sys/devices/system/cpu/cpu{cpu}/topology")
        try:
            package = (topology / "physical_package_id").read_text().strip()
            core = (topology / "core_id").read_text().strip()
        except OSError:  # no sysfs (not Linux, a container without it): count logical CPUs
            package, core = "cpu", str(cpu)
        cores.add((package, core))
    return max(1, len(cores))


def machine_load() -> float:
    """Busy cores apart from this process: the 1-minute load average, or the processes runnable
    right now (a load that began seconds ago) when that is larger."""
    try:
        average = os.getloadavg()[0]
    except (AttributeError, OSError):
        average = 0.0
    try:
        # Fourth field of /proc/loadavg: "runnable/total"; the reading thread is one of them.
        runnable = int(Path("/proc/loadavg").read_text().split()[3].split("/")[0]) - 1
    except (OSError, IndexError, ValueError):
        runnable = 0
    return max(average, float(runnable))


def default_threads(workload: Workload) -> int:
    """The thread count for ``workload`` when neither ``--threads`` nor ORLEARN_THREADS is set."""
    if workload == "small":
        return 1
    idle = physical_cores() - round(machine_load())
    return max(1, min(MAX_THREADS, idle))


def resolve_threads(requested: int | None, workload: Workload) -> int:
    """``requested`` (a ``--threads`` value) if given, else ORLEARN_THREADS, else a valid
    OMP_NUM_THREADS, else the default for ``workload``."""
    if requested is not None:
        if requested < 1:
            raise OrlearnError(f"--threads must be at least 1, got {requested}")
        return requested
    env = os.environ.get(ENV_VAR, "").strip()
    if env:
        try:
            value = int(env)
        except ValueError:
            value = 0
        if value < 1:
            raise OrlearnError(f"{ENV_VAR} must be a whole number >= 1, got {env!r}")
        return value
    omp = os.environ.get("OMP_NUM_THREADS", "").strip()
    if omp.isdigit() and int(omp) >= 1:  # torch reports a malformed value itself
        return int(omp)
    return default_threads(workload)


def set_threads(requested: int | None, workload: Workload) -> int:
    """Resolve the thread count (see :func:`resolve_threads`), give it to torch, return it."""
    import torch

    threads = resolve_threads(requested, workload)
    torch.set_num_threads(threads)
    log.info("torch uses %d thread(s) (%s work)", threads, workload)
    return threads


@contextmanager
def torch_threads(requested: int | None, workload: Workload) -> Iterator[int]:
    """Run a block with torch on the resolved thread count (see :func:`resolve_threads`), then
    give torch back the count it had: for library calls, which must not leave the process
    changed."""
    import torch

    threads = resolve_threads(requested, workload)
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield threads
    finally:
        torch.set_num_threads(before)


def add_threads_option(parser: argparse.ArgumentParser, workload: Workload) -> None:
    """Add ``--threads N`` to an argparse parser, with help that states the default."""
    default = (
        "1" if workload == "small"
        else f"the idle physical cores, at most {MAX_THREADS}"
    )
    parser.add_argument(
        "--threads", type=int, default=None, metavar="N",
        help=f"torch threads (default: ${ENV_VAR}, else $OMP_NUM_THREADS, else {default})",
    )
