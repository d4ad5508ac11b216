import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from orlearn.errors import OrlearnError
from orlearn.inventory.simulator import SUPPLIER, Network, Simulator, State, check_demand


def network(*, lost: bool, lead: int = 2, h: float = 1.0, p: float = 9.0) -> Network:
    return Network(
        names=("store",), holding=torch.tensor([h]), underage=torch.tensor([p]),
        is_store=torch.tensor([True]), transship=torch.tensor([False]),
        edge_src=torch.tensor([SUPPLIER]), edge_dst=torch.tensor([0]), lead_time=torch.tensor([lead]),
        edge_cost=torch.tensor([0.0]), lost_sales=lost,
    )


def star(*, transship: bool = False, lost: bool = True, dtype=torch.float32) -> Network:
    """Supplier -> warehouse (lead 1) -> two stores (lead 1 and 2)."""
    return Network(
        names=("warehouse", "store_0", "store_1"),
        holding=torch.tensor([0.3, 1.0, 1.2], dtype=dtype), underage=torch.tensor([0.0, 9.0, 8.0], dtype=dtype),
        is_store=torch.tensor([False, True, True]), transship=torch.tensor([transship, False, False]),
        edge_src=torch.tensor([SUPPLIER, 0, 0]), edge_dst=torch.tensor([0, 1, 2]),
        lead_time=torch.tensor([1, 1, 2]), edge_cost=torch.tensor([0.5, 0.0, 0.0], dtype=dtype), lost_sales=lost,
    )


def one(v):
    return torch.tensor([[float(v)]])


def test_lost_sales_and_backlog_by_hand():
    # On hand 3, in transit [2 arriving at the end of this period, 0]; order 4; demand 5 then 1.
    for lost, costs, on_hand in ((True, [18.0, 1.0], [2.0, 5.0]), (False, [18.0, 9.0], [0.0, 3.0])):
        sim = Simulator(network(lost=lost))
        state = State(one(3), torch.tensor([[[2.0, 0.0]]]))
        r1 = sim.step(state, one(4), one(5))
        # lost: 2 units lost (cost 18), nothing left, 2 arrive.  backlog: 2 backlogged (18), -2 + 2.
        assert r1.cost.item() == costs[0] and r1.state.on_hand.item() == on_hand[0]
        assert r1.state.pipeline.tolist() == [[[4.0, 0.0]]]
        r2 = sim.step(r1.state, one(0), one(1))
        # lost: 2 - 1 = 1 held (cost 1), then 4 arrive.  backlog: 0 - 1 = -1 (cost 9), then 4 arrive.
        assert r2.cost.item() == costs[1] and r2.state.on_hand.item() == on_hand[1]
        assert r1.unmet.item() == 2.0 and r1.sales.item() == 3.0


@pytest.mark.parametrize("lead", [1, 2, 3, 4])
def test_an_order_is_on_hand_lead_time_periods_later(lead):
    sim = Simulator(network(lost=True, lead=lead))
    state = State(one(0), torch.zeros(1, 1, lead))
    seen = []
    for t in range(lead + 2):
        state = sim.step(state, one(7 if t == 0 else 0), one(0)).state
        seen.append(state.on_hand.item())  # on hand at the start of period t + 1
    assert seen == [0.0] * (lead - 1) + [7.0] * 3


def test_rationing_and_transshipment():
    sim = Simulator(star())
    state = State(torch.tensor([[6.0, 0.0, 0.0]]), torch.zeros(1, 3, 2))
    shipped = sim.step(state, torch.tensor([[0.0, 4.0, 8.0]]), torch.zeros(1, 2)).shipped
    assert shipped.tolist() == [[0.0, 2.0, 4.0]]  # 6 units split 1 : 2
    shipped = sim.step(state, torch.tensor([[0.0, 1.0, 2.0]]), torch.zeros(1, 2)).shipped
    assert shipped.tolist() == [[0.0, 1.0, 2.0]]  # enough stock: as asked, 3 units left
    result = Simulator(star(transship=True)).step(state, torch.tensor([[0.0, 1.0, 2.0]]), torch.zeros(1, 2))
    assert torch.allclose(result.shipped, torch.tensor([[0.0, 2.0, 4.0]]))  # all of it goes out
    assert result.cost.item() == pytest.approx(0.0, abs=1e-6)  # nothing held at the centre


def test_gradcheck_float64():
    net = star().to(torch.float64)
    sim = Simulator(net)
    gen = torch.Generator().manual_seed(3)
    demand = torch.rand(2, 2, 4, generator=gen, dtype=torch.float64) * 5

    def total_cost(requests):
        state = State(torch.tensor([[4.0, 2.0, 3.0]] * 2, dtype=torch.float64), torch.ones(2, 3, 2, dtype=torch.float64))
        cost = 0
        for t in range(4):
            result = sim.step(state, requests[:, :, t], demand[:, :, t])
            state, cost = result.state, cost + result.cost
        return cost

    requests = (torch.rand(2, 3, 4, generator=gen, dtype=torch.float64) * 4).requires_grad_()
    assert torch.autograd.gradcheck(total_cost, (requests,), eps=1e-6, atol=1e-5)


@settings(max_examples=30, deadline=None)
@given(
    st.lists(st.floats(0, 10), min_size=6, max_size=6),
    st.lists(st.floats(0, 10), min_size=4, max_size=4),
    st.booleans(),
)
def test_goods_are_conserved(requests, demand, lost):
    sim = Simulator(star(lost=lost))
    state = State(torch.tensor([[5.0, 1.0, 2.0]]), torch.tensor([[[1.0, 0.0], [2.0, 0.0], [1.0, 3.0]]]))
    total = state.on_hand.sum() + state.pipeline.sum()
    for t in range(2):
        req = torch.tensor([requests[3 * t : 3 * t + 3]])
        result = sim.step(state, req, torch.tensor([demand[2 * t : 2 * t + 2]]))
        total = total + result.shipped[0, 0] - result.sales.sum() - (0 if lost else result.unmet.sum())
        state = result.state
        assert (result.sales <= torch.tensor([[0.0] + demand[2 * t : 2 * t + 2]]) + 1e-5).all()
        if lost:
            assert (state.on_hand >= -1e-6).all()
    assert float(state.on_hand.sum() + state.pipeline.sum()) == pytest.approx(float(total), abs=1e-3)


def test_bad_networks_and_demand():
    with pytest.raises(OrlearnError, match="holding"):
        network(lost=True, h=-1.0)
    with pytest.raises(OrlearnError, match="lead time"):
        network(lost=True, lead=0)
    with pytest.raises(OrlearnError, match="shape"):
        Network(("a",), torch.ones(2), torch.ones(1), torch.tensor([True]), torch.tensor([False]),
                torch.tensor([-1]), torch.tensor([0]), torch.tensor([1]), torch.zeros(1), True)
    with pytest.raises(OrlearnError, match="NaN"):
        check_demand(torch.tensor([[[1.0, float("nan")]]]), 1)
    with pytest.raises(OrlearnError, match="shape"):
        check_demand(torch.ones(2, 3, 4), 1)
