"""Instance files: the standard formats (via each problem's reader) and .npz instance sets
written by ``orlearn construct generate`` (random instances keep their float coordinates)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from orlearn.construct.problems import Problem
from orlearn.errors import OrlearnError

SUFFIXES = {"tsp": ".tsp", "atsp": ".atsp", "cvrp": ".vrp", "op": None, "kp": None}


def save_set(path: str | Path, problem: Problem, instances: Sequence[Any]) -> Path:
    """Write instances of one problem to an .npz set (arrays stacked per field)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays: dict[str, Any] = {"problem": np.array(problem.name)}
    for k, inst in enumerate(instances):
        for f in dataclasses.fields(inst):
            value = getattr(inst, f.name)
            if value is not None:
                arrays[f"{k}/{f.name}"] = np.asarray(value)
    arrays["count"] = np.array(len(instances))
    np.savez_compressed(path, **arrays)
    return path


def load_set(path: str | Path, problem: Problem) -> list[Any]:
    """Read an .npz set written by :func:`save_set` for ``problem``."""
    try:
        data = np.load(path, allow_pickle=False)
        stored = str(data["problem"])
        count = int(data["count"])
    except Exception as exc:  # numpy raises several types for a bad file
        raise OrlearnError(f"{path}: not an orlearn instance set ({type(exc).__name__})") from exc
    if stored != problem.name:
        raise OrlearnError(f"{path} holds {stored} instances, not {problem.name}")
    cls = type(problem.generate(3, 1, 0)[0])
    out = []
    for k in range(count):
        kwargs = {}
        for f in dataclasses.fields(cls):
            key = f"{k}/{f.name}"
            if key in data:
                v = data[key]
                kwargs[f.name] = v.item() if v.ndim == 0 else v
        out.append(cls(**kwargs))
    return out


def read_instances(problem: Problem, target: str | Path) -> list[Any]:
    """Instances from a file (standard format or .npz set) or from every such file of a folder."""
    target = Path(target)
    if target.is_dir():
        suffix = SUFFIXES[problem.name]
        files = sorted(
            p for p in target.iterdir() if p.suffix == ".npz" or (suffix and p.suffix == suffix)
        )
        if not files:
            raise OrlearnError(f"{target}: no {suffix or '.npz'} files for {problem.name}")
        return [inst for f in files for inst in read_instances(problem, f)]
    if not target.exists():
        raise OrlearnError(f"no such file or folder: {target}")
    if target.suffix == ".npz":
        return load_set(target, problem)
    return [problem.read(target)]

