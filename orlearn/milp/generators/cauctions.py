"""Combinatorial auction instances, Leyton-Brown et al.'s "arbitrary relationships" distribution.

K. Leyton-Brown, M. Pearson, Y. Shoham, "Towards a universal test suite for combinatorial auction
algorithms", ACM EC 2000; sizes and defaults as in Gasse et al. (NeurIPS 2019).

Items get common values U[min_value, max_value] and pairwise compatibilities (random symmetric,
rows normalised). Each bidder draws private interests u_k ~ U[0, 1] and private values
v_k + max_value * value_deviation * (2 u_k - 1); a bundle starts from an item picked with
probability proportional to interest and keeps growing with probability ``add_item_prob``, adding
an item with probability proportional to interest times mean compatibility with the bundle. The
price is the sum of private values plus |bundle|^(1 + additivity). The bidder then offers up to
``max_sub_bids`` substitute bundles of the same size grown from each of the bundle's items, priced
the same way, kept when they cost at most ``budget_factor`` x the first price and their common value
is at least ``resale_factor`` x the first bundle's. A bidder's bids are exclusive (XOR), encoded
with one dummy item they share. Model: max sum_b p_b x_b s.t. every item in at most one accepted
bid, x binary.
"""

from __future__ import annotations

import numpy as np
import pyscipopt

VERSION = "cauctions-1"


def _next_item(
    rng: np.random.Generator, mask: np.ndarray, interests: np.ndarray, compat: np.ndarray
) -> int | None:
    weights = (~mask) * interests * compat[mask].mean(axis=0)
    total = weights.sum()
    if total <= 0:
        return None
    return int(rng.choice(len(mask), p=weights / total))


def _bundle(
    rng: np.random.Generator,
    first: int,
    interests: np.ndarray,
    compat: np.ndarray,
    *,
    add_item_prob: float | None = None,
    size: int | None = None,
) -> tuple[int, ...]:
    """Grow a bundle from ``first``: randomly (``add_item_prob``) or up to ``size`` items."""
    mask = np.zeros(len(interests), dtype=bool)
    mask[first] = True
    while not mask.all():
        if size is not None and mask.sum() >= size:
            break
        if add_item_prob is not None and rng.random() >= add_item_prob:
            break
        item = _next_item(rng, mask, interests, compat)
        if item is None:
            break
        mask[item] = True
    return tuple(int(i) for i in np.flatnonzero(mask))


def build(
    rng: np.random.Generator,
    *,
    name: str = "cauctions",
    n_items: int = 100,
    n_bids: int = 500,
    min_value: float = 1.0,
    max_value: float = 100.0,
    value_deviation: float = 0.5,
    add_item_prob: float = 0.7,
    max_sub_bids: int = 5,
    additivity: float = 0.2,
    budget_factor: float = 1.5,
    resale_factor: float = 0.5,
) -> pyscipopt.Model:
    """Draw one combinatorial auction (``n_bids`` bids on ``n_items`` items)."""
    values = rng.uniform(min_value, max_value, size=n_items)
    compat = np.triu(rng.random((n_items, n_items)), k=1)
    compat = compat + compat.T
    compat /= compat.sum(axis=1, keepdims=True)

    bids: list[tuple[tuple[int, ...], float]] = []
    n_dummy = 0
    while len(bids) < n_bids:
        interests = rng.random(n_items)
        private = values + max_value * value_deviation * (2 * interests - 1)
        first = int(rng.choice(n_items, p=interests / interests.sum()))
        bundle = _bundle(rng, first, interests, compat, add_item_prob=add_item_prob)

        def price(items: tuple[int, ...], private: np.ndarray = private) -> float:
            return float(private[list(items)].sum() + len(items) ** (1 + additivity))

        first_price = price(bundle)
        if first_price < 0:
            continue
        offers = {bundle: first_price}
        candidates = []
        for item in bundle:
            sub = _bundle(rng, item, interests, compat, size=len(bundle))
            candidates.append((price(sub), sub))
        min_resale = resale_factor * values[list(bundle)].sum()
        for sub_price, sub in sorted(candidates, key=lambda c: (-c[0], c[1])):
            if len(offers) > max_sub_bids or len(bids) + len(offers) >= n_bids:
                break
            if sub in offers or sub_price < 0 or sub_price > budget_factor * first_price:
                continue
            if values[list(sub)].sum() < min_resale:
                continue
            offers[sub] = sub_price
        dummy: tuple[int, ...] = ()
        if len(offers) > 1:
            dummy = (n_items + n_dummy,)
            n_dummy += 1
        bids.extend((items + dummy, p) for items, p in offers.items())

    model = pyscipopt.Model(problemName=name)
    x = [model.addVar(name=f"x{b}", vtype="B", obj=round(p, 6)) for b, (_, p) in enumerate(bids)]
    bids_of_item: list[list[int]] = [[] for _ in range(n_items + n_dummy)]
    for b, (items, _) in enumerate(bids):
        for item in items:
            bids_of_item[item].append(b)
    for item, owners in enumerate(bids_of_item):
        if len(owners) > 1:
            model.addCons(pyscipopt.quicksum(x[b] for b in owners) <= 1, name=f"item{item}")
    model.setMaximize()
    return model
