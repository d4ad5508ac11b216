"""The expert: strong-branching scores of every LP branching candidate, without side effects.

Each candidate's two child LPs are solved through ``startStrongbranch`` /
``getVarStrongbranch(idempotent=True)`` / ``endStrongbranch``, so the search (bounds, pseudo
costs, conflict data) is the same afterwards as if nothing had been asked: the labels are clean.
The score is SCIP's own product score of the two dual-bound gains (``getBranchScoreMultiple``,
which applies SCIP's epsilon and score function), exactly as SCIP's ``vanillafullstrong`` rule
computes it, so the expert's choice is the one full strong branching would make.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from orlearn.errors import OrlearnError

# No iteration limit on a child LP, as vanillafullstrong (INT_MAX).
_NO_ITLIM = 2**31 - 1


class ExpertError(OrlearnError):
    """Strong branching failed at a node (an LP error); the node's sample is skipped."""


def strong_branching_scores(model: Any, candidates: list[Any] | None = None) -> np.ndarray:
    """SCIP product scores (dual-bound gain product, objective units squared) of ``candidates``.

    ``candidates`` defaults to the priority LP branching candidates (``getLPBranchCands``). Must be
    called from a branching rule at a node whose LP is solved. Raises :class:`ExpertError` on an
    LP error.
    """
    if candidates is None:
        cands, _, _, _, npriocands, _ = model.getLPBranchCands()
        candidates = cands[:npriocands]
    lpobj = model.getLPObjVal()
    scores = np.empty(len(candidates), dtype=np.float64)
    model.startStrongbranch()
    try:
        for i, var in enumerate(candidates):
            down, up, _, _, _, _, _, _, lperror = model.getVarStrongbranch(
                var, _NO_ITLIM, idempotent=True
            )
            if lperror:
                raise ExpertError(f"LP error in strong branching on {var.name}")
            # An infeasible child reports a bound at or beyond the cutoff: a large gain.
            gains = [max(down, lpobj) - lpobj, max(up, lpobj) - lpobj]
            scores[i] = model.getBranchScoreMultiple(var, gains)
    finally:
        model.endStrongbranch()
    return scores
