"""One call to seed every random number generator orlearn uses."""

import random

import numpy as np


def seed_everything(seed: int) -> None:
    """Seed Python's, NumPy's and (if imported) torch's generators with ``seed``."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    try:
        import torch
    except ImportError:  # torch is a dependency, but the MILP side never needs it loaded
        return
    torch.manual_seed(seed)
