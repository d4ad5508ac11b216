"""Registry: names, parameters, seeds and disjoint splits."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orlearn.errors import OrlearnError
from orlearn.milp.registry import (
    SPLIT_SIZE,
    SPLITS,
    get_distribution,
    list_distributions,
    split_of_seed,
)

REQUIRED = [
    "setcover/small", "setcover/medium", "setcover/large",
    "cauctions/small", "cauctions/medium", "cauctions/large",
    "facility/small", "facility/medium", "facility/large",
    "indset/small", "indset/medium", "indset/large", "indset-er/small",
    "vertexcover/small", "gisp/small", "mknapsack/small", "mknapsack/medium",
]  # fmt: skip


def test_required_distributions_are_registered():
    names = list_distributions()
    assert names == sorted(names)
    for name in REQUIRED:
        d = get_distribution(name)
        assert d.name == name and f"{d.domain}/{d.size}" == name
        assert d.description and d.params
        assert d.version.startswith(d.generator)


def test_issue_sizes():
    assert get_distribution("setcover/medium").params["n_rows"] == 1000
    assert get_distribution("setcover/large").params["n_cols"] == 1000
    ca = get_distribution("cauctions/large").params
    assert (ca["n_items"], ca["n_bids"], ca["add_item_prob"]) == (300, 1500, 0.7)
    assert get_distribution("facility/medium").params["n_customers"] == 200
    assert get_distribution("indset/large").params["n_nodes"] == 1500
    assert get_distribution("mknapsack/medium").params["n_knapsacks"] == 12


def test_unknown_name_lists_known_ones():
    with pytest.raises(OrlearnError, match="setcover/small"):
        get_distribution("setcover/huge")


def test_bad_split_and_index():
    d = get_distribution("setcover/small")
    with pytest.raises(OrlearnError, match="split"):
        d.seed_for("training", 0)
    with pytest.raises(OrlearnError):
        d.seed_for("test", -1)
    with pytest.raises(OrlearnError):
        d.seed_for("test", SPLIT_SIZE)
    with pytest.raises(OrlearnError):
        d.with_params(no_such_param=1)


@given(
    st.sampled_from(SPLITS),
    st.sampled_from(SPLITS),
    st.integers(0, SPLIT_SIZE - 1),
    st.integers(0, SPLIT_SIZE - 1),
)
def test_splits_are_disjoint(split_a, split_b, i, j):
    d = get_distribution("cauctions/small")
    a, b = d.seed_for(split_a, i), d.seed_for(split_b, j)
    assert split_of_seed(a) == split_a and split_of_seed(b) == split_b
    if split_a != split_b:
        assert a != b
    elif i != j:
        assert a != b


def test_streams_differ_between_distributions():
    small = get_distribution("setcover/small").rng(7).random(4)
    medium = get_distribution("setcover/medium").rng(7).random(4)
    again = get_distribution("setcover/small").rng(7).random(4)
    assert (small == again).all() and not (small == medium).any()
