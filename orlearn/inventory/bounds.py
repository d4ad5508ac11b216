"""Closed-form references: a lower bound for the transshipment system.

A transshipment centre orders with lead time ``Lw`` and, every period, splits all it has among
stores that are ``Ls`` periods away; stores backlog. Relaxing the split so that it may also take
stock *from* stores (the balance relaxation of Eppen and Schrage, Federgruen and Zipkin) can only
lower the cost. The relaxed system is a base-stock system on the total position ``S``: ``Lw``
periods later, ``Y = S - demand over Lw periods`` is split into store positions ``y_s``, and each
store then pays its newsvendor cost ``G_s(y_s)`` over ``Ls + 1`` periods of its own demand.
With equal costs at every store and Normal demand the best split has one common safety factor
``z = (Y - sum mu_s) / sum sigma_s``, so the bound is a one-dimensional integral minimized over S.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import optimize, stats

from orlearn.errors import OrlearnError
from orlearn.inventory.demand import NormalDemand
from orlearn.inventory.settings import Setting


def transshipment_lower_bound(setting: Setting) -> float:
    """Lower bound on the average cost per period per store of a transshipment setting."""
    net = setting.network
    if not bool(net.transship.any()) or net.lost_sales or not isinstance(setting.demand, NormalDemand):
        raise OrlearnError("the transshipment bound needs a transshipment centre, backlog and Normal demand")
    stores = net.stores
    h, p = net.holding[stores].double().numpy(), net.underage[stores].double().numpy()
    if np.ptp(h) > 1e-12 or np.ptp(p) > 1e-12:
        raise OrlearnError("the transshipment bound assumes the same costs at every store")
    h, p = float(h[0]), float(p[0])
    into_store = [int(np.nonzero(net.edge_dst.numpy() == s)[0][0]) for s in stores.tolist()]
    store_leads = {int(net.lead_time[e]) for e in into_store}
    centre_edges = np.nonzero(net.edge_src.numpy() < 0)[0]
    if len(store_leads) != 1 or len(centre_edges) != 1:
        raise OrlearnError("the transshipment bound assumes one centre and one store lead time")
    ls, lw = store_leads.pop(), int(net.lead_time[int(centre_edges[0])])
    mu = setting.demand.mean.double().numpy()
    cov = setting.demand.covariance().numpy()
    mu_s, sigma_s = (ls + 1) * mu, math.sqrt(ls + 1) * np.sqrt(np.diag(cov))
    lead_mean, lead_std = lw * mu.sum(), math.sqrt(lw * cov.sum())
    nodes, weights = np.polynomial.hermite_e.hermegauss(80)  # E f(N(0, 1)) = sum w f(x) / sqrt(2 pi)
    weights = weights / math.sqrt(2 * math.pi)

    def cost(level: float) -> float:
        y = level - lead_mean - lead_std * nodes
        z = (y - mu_s.sum()) / sigma_s.sum()
        loss = stats.norm.pdf(z) - z * stats.norm.sf(z)  # E (Z - z)^+
        return float(weights @ (sigma_s.sum() * (h * z + (h + p) * loss)))

    guess = lead_mean + mu_s.sum()
    best = optimize.minimize_scalar(cost, bracket=(guess - 5 * lead_std, guess, guess + 5 * lead_std))
    return best.fun / net.n_stores
