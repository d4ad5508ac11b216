"""Learning-curve PNGs (matplotlib, optional: without it a warning is logged and nothing drawn)."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

log = logging.getLogger(__name__)


def save_learning_curves(
    path: str | Path,
    curves: Mapping[str, Sequence[float]],
    *,
    xlabel: str = "epoch",
    title: str = "",
    logy: bool = False,
) -> Path | None:
    """Draw each named series against its index and save a PNG; returns the path or None."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        log.warning("matplotlib is not installed: no learning curve written (pip install orlearn[plot])")
        return None
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(6, 4))
    for name, values in curves.items():
        ax.plot(range(1, len(values) + 1), list(values), label=name)
    ax.set_xlabel(xlabel)
    if logy:
        ax.set_yscale("log")
    if title:
        ax.set_title(title)
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
