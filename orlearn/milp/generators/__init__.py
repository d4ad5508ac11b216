"""One module per MILP domain; each exposes ``VERSION`` and ``build(rng, name=..., **params)``.

``build`` draws every random number from the given ``numpy.random.Generator`` in a fixed order and
returns a fresh ``pyscipopt.Model`` with deterministic variable and constraint names, so the same
generator state always gives the same model (and the same file once written).
"""
