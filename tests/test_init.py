"""``import orlearn``: cheap (no SCIP, torch or Pyomo), with its first names loading lazily."""

import subprocess
import sys

FRESH = """
import sys
import orlearn, orlearn.solver, orlearn.branching
heavy = [m for m in ("pyomo", "pyscipopt", "torch") if m in sys.modules]
assert not heavy, heavy
assert callable(orlearn.solve) and callable(orlearn.attach_branching)
import pyomo.opt
assert "orlearn" not in pyomo.opt.SolverFactory  # registered only on the explicit import
import orlearn.branching.pyomo
assert "orlearn" in pyomo.opt.SolverFactory
"""


def test_import_orlearn_loads_nothing_heavy_and_pyomo_registers_on_request():
    proc = subprocess.run([sys.executable, "-c", FRESH], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
