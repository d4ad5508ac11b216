"""The expert agrees with SCIP's own full strong branching and leaves no trace on the search."""

import numpy as np
import pyscipopt

from orlearn.branching.expert import strong_branching_scores


class _ParentBranching(pyscipopt.Eventhdlr):
    """Records (parent node number, branching variable name) of every focused node."""

    def eventinit(self):
        self.pairs = []
        self.model.catchEvent(pyscipopt.SCIP_EVENTTYPE.NODEFOCUSED, self)

    def eventexec(self, event):
        node = self.model.getCurrentNode()
        parent = node.getParent()
        if parent is not None:
            branch_vars, *_ = node.getParentBranchings()
            self.pairs.append((parent.getNumber(), branch_vars[0].name))


def _solve(tiny, seed: int, with_expert: bool):
    model = tiny.configure(tiny.setcover(seed))
    model.setParam("branching/vanillafullstrong/priority", 10**6)
    model.setParam("limits/nodes", 12)
    events = _ParentBranching()
    model.includeEventhdlr(events, "parents", "")
    spy = None
    if with_expert:

        def score(m):
            cands, _, _, _, nprio, _ = m.getLPBranchCands()
            node = m.getCurrentNode().getNumber()
            return node, [v.name for v in cands[:nprio]], strong_branching_scores(m)

        spy = tiny.spy_on(model, score)
    model.optimize()
    return model, events.pairs, spy


def test_expert_choice_is_full_strong_branching_choice_and_idempotent(tiny):
    plain, plain_pairs, _ = _solve(tiny, 1, with_expert=False)
    model, pairs, spy = _solve(tiny, 1, with_expert=True)
    assert not spy.errors, spy.errors
    # Idempotent: asking the expert at every node changes nothing in the search.
    assert pairs == plain_pairs
    assert model.getNNodes() == plain.getNNodes()
    assert model.getPrimalbound() == plain.getPrimalbound()
    # SCIP's vanillafullstrong branched on a candidate with the expert's best score.
    scores = {node: (names, s) for node, names, s in spy.records}
    checked = 0
    for parent, name in pairs:
        names, s = scores[parent]
        assert np.isfinite(s).all() and (s >= 0).all()
        assert s[names.index(name)] >= s.max() * (1 - 1e-9)
        checked += 1
    assert checked >= 4
