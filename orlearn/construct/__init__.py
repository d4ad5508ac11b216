"""Constructive neural solvers with bisimulation quotienting (BQ-NCO) for TSP, ATSP, CVRP, OP, KP.

Python use::

    from orlearn.construct import solve
    results = solve("tsp", instances, beam=16)   # list of Decoded(solution, objective, seconds)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from orlearn.shipped import shipped_path

POLICY_DIR = shipped_path("policies", "construct")


def default_policy(problem: str) -> Path:
    """The shipped policy of ``problem`` (policies/construct/<problem>100.pt, trained on size 100)."""
    from orlearn.errors import OrlearnError

    path = POLICY_DIR / f"{problem}100.pt"
    if not path.is_file():
        raise OrlearnError(
            f"no shipped policy for {problem} ({path}); train one with "
            f"`orlearn construct train --problem {problem}` and pass it with --policy"
        )
    return path


def solve(
    problem: str,
    instances: Sequence[Any],
    *,
    policy: str | Path | None = None,
    beam: int = 1,
    knn: int | None = None,
    batch_size: int = 64,
    on_result: Callable[[int, Any], None] | None = None,
    threads: int | None = None,
) -> list[Any]:
    """Solve ``instances`` of ``problem`` with a trained policy (the shipped one by default; an
    orlearn policy file or a BQ-NCO authors' ``.best`` checkpoint): greedy, or beam search of
    width ``beam``. ``knn`` restricts each step to the k candidates nearest the current node; by
    default it is the policy's training k for a policy trained on k-NN sub-problems, else, for
    a transformer policy, the training size for instances more than twice as large. Returns
    one :class:`orlearn.construct.decode.Decoded` per instance; ``on_result(i, decoded)`` is
    called as each instance ``i`` is done. Torch runs on ``threads`` threads during the call
    (default: ORLEARN_THREADS, else OMP_NUM_THREADS, else the idle physical cores, at most 4;
    see :mod:`orlearn.threads`) and gets its own setting back afterwards."""
    from orlearn.construct.model import load_model
    from orlearn.construct.problems import get_problem
    from orlearn.errors import OrlearnError
    from orlearn.threads import torch_threads

    if beam < 1:
        raise OrlearnError("beam width must be at least 1")
    if knn is not None and knn < 1:
        raise OrlearnError("knn must be at least 1")
    prob = get_problem(problem)
    model, meta = load_model(str(policy or default_policy(problem)), prob)
    with torch_threads(threads, "batched"):
        return _decode_by_size(prob, model, meta, instances, beam, knn, batch_size, on_result)


def _decode_by_size(
    prob: Any,
    model: Any,
    meta: dict[str, Any],
    instances: Sequence[Any],
    beam: int,
    knn: int | None,
    batch_size: int,
    on_result: Callable[[int, Any], None] | None,
) -> list[Any]:
    """Decode the instances up to twice the training size, then the larger ones (with the
    k-NN restriction that suits the model, unless ``knn`` says otherwise)."""
    from orlearn.construct.decode import solve as decode

    results: list[Any] = [None] * len(instances)
    config = meta.get("config", {})
    trained_n = int(config.get("n", 100))
    trained_knn = config.get("knn")  # a policy trained on k-NN sub-problems decodes with them
    # The perceiver's step is linear in the size: it decodes large instances in full by default.
    auto_knn = getattr(model, "auto_knn", True)
    for big in (False, True):
        idx = [i for i, inst in enumerate(instances) if (prob.size_of(inst) > 2 * trained_n) == big]
        if not idx:
            continue
        k = knn if knn is not None else (trained_knn or (trained_n if big and auto_knn else None))

        def report(j: int, result: Any, idx: list[int] = idx) -> None:
            if on_result is not None:
                on_result(idx[j], result)

        out = decode(prob, model, [instances[i] for i in idx], beam=beam, knn=k,
                     batch_size=batch_size, on_result=report)
        for i, r in zip(idx, out):
            results[i] = r
    return results


# Solver hooks load lazily: pyscipopt and Pyomo are imported only when they are used.
_HOOKS = {"attach_heuristic": "orlearn.construct.heuristic", "warm_start": "orlearn.construct.warmstart"}


def __getattr__(name: str) -> Any:
    if name in _HOOKS:
        import importlib

        return getattr(importlib.import_module(_HOOKS[name]), name)
    raise AttributeError(f"module 'orlearn.construct' has no attribute {name!r}")
