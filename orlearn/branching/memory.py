"""Keep freed memory in the process, so that the GNN's per-node tensors do not page-fault.

A forward pass on a set cover LP allocates tensors of several MB (one row per LP nonzero). glibc
serves blocks that large with fresh ``mmap`` calls and gives them back on free, so each pass
pays thousands of page faults: measured 2-2.5x the CPU time of the pass itself on this project's
machines. Raising glibc's mmap and trim thresholds makes freed blocks reusable. Process-wide and
harmless elsewhere (the memory stays with the process); a no-op outside glibc.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging

log = logging.getLogger(__name__)

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_done = False


def reuse_freed_memory(threshold_mb: int = 256) -> bool:
    """Raise glibc's mmap/trim thresholds to ``threshold_mb`` MB once per process; True if set."""
    global _done
    if _done:
        return True
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        size = threshold_mb * 1024 * 1024
        ok = libc.mallopt(_M_MMAP_THRESHOLD, size) == 1
        ok = libc.mallopt(_M_TRIM_THRESHOLD, 2 * size) == 1 and ok
    except (OSError, AttributeError) as exc:  # not glibc: nothing to tune
        log.debug("mallopt unavailable: %s", exc)
        return False
    _done = ok
    return ok
