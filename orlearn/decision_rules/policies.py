"""Decision rules mapping the uncertainty history and the previous state to target states.

Every rule works stage by stage: ``step(t, w_t, x_prev, memory) -> (target_t, memory)``.
Inputs are scaled (uncertainty by its mean and standard deviation, states by their bounds) and
the stage index enters as t/T. The recurrent and MLP rules squash their output with a sigmoid
into the state's feasible interval [lower_t, upper_t]; the linear rule is affine in its inputs
(targets outside the bounds are paid for by the slack penalty).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from orlearn.errors import OrlearnError
from orlearn.policy_file import PolicyFile, load_policy, save_policy

POLICY_KIND = "ddr"
FEATURE_VERSION = 1
ARCHITECTURES = ("lstm", "gru", "mlp", "linear")


class DecisionRule(nn.Module):
    """Base class: scaling buffers and the autoregressive open-loop ``forward``."""

    def __init__(
        self,
        lower: np.ndarray,
        upper: np.ndarray,
        w_mean: np.ndarray,
        w_std: np.ndarray,
        initial_state: np.ndarray,
    ) -> None:
        super().__init__()
        lower_t = torch.as_tensor(np.asarray(lower), dtype=torch.float32)
        upper_t = torch.as_tensor(np.asarray(upper), dtype=torch.float32)
        if lower_t.shape != upper_t.shape or lower_t.dim() != 2 or bool((upper_t < lower_t).any()):
            raise OrlearnError("state bounds must be two T x n arrays with lower <= upper")
        self.register_buffer("lower", lower_t)
        self.register_buffer("upper", upper_t)
        self.register_buffer("w_mean", torch.as_tensor(np.asarray(w_mean), dtype=torch.float32))
        std = torch.as_tensor(np.asarray(w_std), dtype=torch.float32)
        self.register_buffer("w_std", torch.where(std > 1e-8, std, torch.ones_like(std)))
        self.register_buffer("x0", torch.as_tensor(np.asarray(initial_state), dtype=torch.float32))
        x_lo = lower_t.min(dim=0).values
        span = upper_t.max(dim=0).values - x_lo
        self.register_buffer("x_lo", x_lo)
        self.register_buffer("x_span", torch.where(span > 0, span, torch.ones_like(span)))

    @property
    def n_stages(self) -> int:
        return self.lower.shape[0]

    @property
    def n_state(self) -> int:
        return self.lower.shape[1]

    @property
    def n_uncertainty(self) -> int:
        return self.w_mean.shape[0]

    def features(self, t: int, w_t: torch.Tensor, x_prev: torch.Tensor) -> torch.Tensor:
        """Scaled inputs of stage t: [w_t, x_{t-1}, t/T] (S x (d + n + 1))."""
        time = torch.full((w_t.shape[0], 1), t / self.n_stages, dtype=w_t.dtype)
        return torch.cat(
            [(w_t - self.w_mean) / self.w_std, (x_prev - self.x_lo) / self.x_span, time], dim=1
        )

    def squash(self, t: int, z: torch.Tensor) -> torch.Tensor:
        return self.lower[t] + (self.upper[t] - self.lower[t]) * torch.sigmoid(z)

    def initial_memory(self, batch: int) -> Any:
        return None

    def step(
        self, t: int, w_t: torch.Tensor, x_prev: torch.Tensor, memory: Any
    ) -> tuple[torch.Tensor, Any]:
        raise NotImplementedError

    def forward(self, w: torch.Tensor) -> torch.Tensor:
        """Targets (S x T x n) for scenarios w (S x T x d), each stage fed the previous target."""
        if w.dim() != 3 or w.shape[1] != self.n_stages or w.shape[2] != self.n_uncertainty:
            raise OrlearnError(
                f"scenarios have shape {tuple(w.shape)}, the policy expects (S, {self.n_stages}, "
                f"{self.n_uncertainty})"
            )
        x = self.x0.expand(w.shape[0], -1)
        memory = self.initial_memory(w.shape[0])
        out = []
        for t in range(self.n_stages):
            x, memory = self.step(t, w[:, t], x, memory)
            out.append(x)
        return torch.stack(out, dim=1)


class RecurrentRule(DecisionRule):
    """LSTM or GRU cells over the stages; the head sees the hidden state and the inputs."""

    def __init__(self, *args: Any, cell: str = "lstm", hidden: int = 64, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        n_in = self.n_uncertainty + self.n_state + 1
        self.cell_type = cell
        self.cell = nn.LSTMCell(n_in, hidden) if cell == "lstm" else nn.GRUCell(n_in, hidden)
        self.head = nn.Sequential(
            nn.Linear(hidden + n_in, hidden), nn.Tanh(), nn.Linear(hidden, self.n_state)
        )
        self.hidden = hidden

    def initial_memory(self, batch: int) -> Any:
        h = torch.zeros(batch, self.hidden)
        return (h, torch.zeros(batch, self.hidden)) if self.cell_type == "lstm" else h

    def step(
        self, t: int, w_t: torch.Tensor, x_prev: torch.Tensor, memory: Any
    ) -> tuple[torch.Tensor, Any]:
        f = self.features(t, w_t, x_prev)
        memory = self.cell(f, memory)
        h = memory[0] if self.cell_type == "lstm" else memory
        return self.squash(t, self.head(torch.cat([h, f], dim=1))), memory


class MLPRule(DecisionRule):
    """A feed-forward net of the current inputs only (no memory of past inflows)."""

    def __init__(self, *args: Any, hidden: int = 64, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        n_in = self.n_uncertainty + self.n_state + 1
        self.hidden = hidden
        self.net = nn.Sequential(
            nn.Linear(n_in, hidden),
            nn.Tanh(),
            nn.Linear(hidden, hidden),
            nn.Tanh(),
            nn.Linear(hidden, self.n_state),
        )

    def step(
        self, t: int, w_t: torch.Tensor, x_prev: torch.Tensor, memory: Any
    ) -> tuple[torch.Tensor, Any]:
        return self.squash(t, self.net(self.features(t, w_t, x_prev))), memory


class LinearRule(DecisionRule):
    """Per-stage affine rule: target_t = lower_t + (upper_t - lower_t) (b_t + A_t [w_t; x_{t-1}])
    in scaled units, starting at the middle of the bounds."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        n_in = self.n_uncertainty + self.n_state
        self.weight = nn.Parameter(torch.zeros(self.n_stages, self.n_state, n_in))
        self.bias = nn.Parameter(torch.full((self.n_stages, self.n_state), 0.5))

    def step(
        self, t: int, w_t: torch.Tensor, x_prev: torch.Tensor, memory: Any
    ) -> tuple[torch.Tensor, Any]:
        f = self.features(t, w_t, x_prev)[:, :-1]
        z = self.bias[t] + f @ self.weight[t].T
        return self.lower[t] + (self.upper[t] - self.lower[t]) * z, memory


def build_rule(
    architecture: str,
    *,
    lower: np.ndarray,
    upper: np.ndarray,
    w_mean: np.ndarray,
    w_std: np.ndarray,
    initial_state: np.ndarray,
    hidden: int = 64,
) -> DecisionRule:
    """A fresh decision rule of the given architecture ('lstm', 'gru', 'mlp', 'linear')."""
    common = dict(lower=lower, upper=upper, w_mean=w_mean, w_std=w_std, initial_state=initial_state)
    if architecture in ("lstm", "gru"):
        return RecurrentRule(cell=architecture, hidden=hidden, **common)
    if architecture == "mlp":
        return MLPRule(hidden=hidden, **common)
    if architecture == "linear":
        return LinearRule(**common)
    raise OrlearnError(
        f"unknown policy architecture {architecture!r}; choose one of {', '.join(ARCHITECTURES)}"
    )


def rule_for_problem(architecture: str, problem: Any, *, hidden: int = 64) -> DecisionRule:
    """A fresh rule sized and scaled for a multistage problem (bounds, x_0, uncertainty)."""
    w_mean, w_std = problem.uncertainty.moments()
    return build_rule(
        architecture,
        lower=problem.lower,
        upper=problem.upper,
        w_mean=w_mean,
        w_std=w_std,
        initial_state=problem.initial_state,
        hidden=hidden,
    )


def save_rule(path: Any, rule: DecisionRule, metadata: dict[str, Any] | None = None) -> Any:
    """Write ``rule`` as an orlearn policy file (kind 'ddr') with its model card."""
    arch = (
        rule.cell_type
        if isinstance(rule, RecurrentRule)
        else ("mlp" if isinstance(rule, MLPRule) else "linear")
    )
    buffers = {k: v.clone() for k, v in rule.named_buffers()}
    weights = {k: v.detach().clone() for k, v in rule.state_dict().items() if k not in buffers}
    return save_policy(
        path,
        PolicyFile(
            kind=POLICY_KIND,
            feature_version=FEATURE_VERSION,
            hyperparameters={"architecture": arch, "hidden": getattr(rule, "hidden", 64)},
            state_dict=weights,
            metadata=metadata or {},
            extra={k: buffers[k] for k in ("lower", "upper", "w_mean", "w_std", "x0")},
        ),
    )


def load_rule(path: Any) -> tuple[DecisionRule, dict[str, Any]]:
    """Read a decision rule written by :func:`save_rule`; returns (rule, metadata)."""
    pf = load_policy(path, kind=POLICY_KIND, feature_version=FEATURE_VERSION)
    try:
        e = pf.extra
        rule = build_rule(
            pf.hyperparameters["architecture"],
            lower=e["lower"].numpy(),
            upper=e["upper"].numpy(),
            w_mean=e["w_mean"].numpy(),
            w_std=e["w_std"].numpy(),
            initial_state=e["x0"].numpy(),
            hidden=int(pf.hyperparameters.get("hidden", 64)),
        )
        rule.load_state_dict({**dict(rule.named_buffers()), **pf.state_dict})
    except (KeyError, RuntimeError) as exc:
        raise OrlearnError(f"{path} does not hold a valid decision rule ({exc})") from exc
    rule.eval()
    return rule, pf.metadata
