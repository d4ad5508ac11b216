"""What ``orlearn milp generate`` and ``orlearn milp convert`` run beyond the registry and the
readers: where a generated set goes, and the conversion of several Distributional MIPLIB CSV
files. Solving (``milp solve``, ``milp hardness``) is :mod:`orlearn.solver.tasks`.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path


def generate_dir(name: str, split: str) -> Path:
    """Where ``orlearn milp generate`` writes a set when no folder is given:
    data/instances/NAME/SPLIT, the folder registry names are generated into on demand."""
    from orlearn.milp.io import DEFAULT_CACHE_DIR

    return DEFAULT_CACHE_DIR / name / split


def convert_csv_files(
    csv_files: Iterable[str | Path],
    out_dir: str | Path,
    *,
    compress: bool = True,
    limit: int | None = None,
    progress: bool = False,
) -> list[Path]:
    """Write the rows of every Distributional MIPLIB CSV file as instance files in ``out_dir``
    (see :func:`orlearn.milp.distributional_miplib.csv_to_files`); returns all paths."""
    from orlearn.milp.distributional_miplib import csv_to_files

    paths: list[Path] = []
    for csv_file in csv_files:
        paths += csv_to_files(csv_file, out_dir, compress=compress, limit=limit, progress=progress)
    return paths
