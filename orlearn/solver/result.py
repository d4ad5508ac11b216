"""The result record of every solve: one :class:`SolveResult` per solve, one JSON line each."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from orlearn import __version__
from orlearn.solver.settings import SOLVED_STATUSES

#: Version of the SolveResult record; bumped when a field changes meaning or disappears.
SCHEMA_VERSION = 1

ResultKey = tuple[str, str, str, str, int, float | None]


@dataclass
class SolveResult:
    """What one solve did. Times in seconds; bounds in the objective of the instance as read.

    ``primal_bound``/``dual_bound``/``gap`` are None when infinite (no solution, no bound).
    ``gap`` is SCIP's relative gap |primal - dual| / min(|primal|, |dual|).
    ``primal_dual_integral`` is SCIP's primal-dual integral: the primal-dual gap in percent
    integrated over solving time (percent x seconds; smaller is better).
    ``wall_time`` covers reading, set-up and solving, measured in the process that solved;
    ``solving_time`` is SCIP's own solving clock (wall clock, presolving included).
    """

    instance: str
    rule: str
    settings: str = "default"
    params: dict[str, Any] = field(default_factory=dict)
    seed: int = 0
    time_limit: float | None = None
    status: str = "error"
    wall_time: float = 0.0
    solving_time: float = 0.0
    nodes: int = 0
    lp_iterations: int = 0
    primal_bound: float | None = None
    dual_bound: float | None = None
    gap: float | None = None
    primal_dual_integral: float | None = None
    branching_stats: dict[str, Any] = field(default_factory=dict)
    message: str = ""
    # An error caused by the input (an unreadable instance file, an unusable policy), as opposed
    # to a crash or a timeout: the command line then exits 2, as for any other bad input.
    bad_input: bool = False
    orlearn_version: str = __version__
    scip_version: str = ""
    schema: int = SCHEMA_VERSION

    @property
    def solved(self) -> bool:
        """True when the solve proved its answer (optimal, infeasible or unbounded)."""
        return self.status in SOLVED_STATUSES

    def key(self) -> ResultKey:
        """What identifies the solve in a result file: instance, rule, settings, params, seed, limit."""
        return result_key(
            self.instance, self.rule, self.settings, self.params, self.seed, self.time_limit
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dictionary (the record written as one JSON line)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SolveResult:
        """Rebuild a result from :meth:`to_dict` output; unknown keys (newer schema) are ignored."""
        names = {f.name for f in fields(cls)}
        if "instance" not in data or "rule" not in data:
            raise ValueError("not a solve result: 'instance' or 'rule' missing")
        return cls(**{k: v for k, v in data.items() if k in names})


def result_key(
    instance: str,
    rule: str,
    settings: str,
    params: Mapping[str, Any] | None,
    seed: int,
    time_limit: float | None,
) -> ResultKey:
    """The identity of a solve, used to skip finished work when a batch resumes."""
    limit = None if time_limit is None else float(time_limit)
    return (
        str(instance),
        rule,
        settings,
        json.dumps(dict(params or {}), sort_keys=True),
        int(seed),
        limit,
    )
