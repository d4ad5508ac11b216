"""Torch thread counts: the option wins over ORLEARN_THREADS, which wins over the default; the
default leaves busy cores alone."""

from __future__ import annotations

import pytest
import torch

from orlearn import threads
from orlearn.errors import OrlearnError


@pytest.fixture(autouse=True)
def _restore_torch_threads(monkeypatch):
    monkeypatch.delenv(threads.ENV_VAR, raising=False)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


def test_small_work_runs_on_one_thread():
    assert threads.default_threads("small") == 1


@pytest.mark.parametrize(
    ("cores", "load", "expected"),
    [(2, 0.0, 2), (2, 1.0, 1), (2, 3.5, 1), (8, 2.2, 4), (16, 0.0, threads.MAX_THREADS), (1, 0.0, 1)],
)
def test_batched_work_uses_the_idle_cores(monkeypatch, cores, load, expected):
    monkeypatch.setattr(threads, "physical_cores", lambda: cores)
    monkeypatch.setattr(threads, "machine_load", lambda: load)
    assert threads.default_threads("batched") == expected


def test_option_then_environment_then_default(monkeypatch):
    monkeypatch.setattr(threads, "default_threads", lambda workload: 7)
    assert threads.resolve_threads(None, "batched") == 7
    monkeypatch.setenv("OMP_NUM_THREADS", "junk")  # torch's to complain about, not ours
    assert threads.resolve_threads(None, "batched") == 7
    monkeypatch.setenv("OMP_NUM_THREADS", "5")  # a job pinned the usual way stays pinned
    assert threads.resolve_threads(None, "batched") == 5
    monkeypatch.setenv(threads.ENV_VAR, "3")
    assert threads.resolve_threads(None, "batched") == 3
    assert threads.resolve_threads(2, "batched") == 2
    assert threads.set_threads(None, "small") == 3 and torch.get_num_threads() == 3


@pytest.mark.parametrize("value", ["0", "-1", "two", "1.5"])
def test_a_bad_environment_value_is_refused(monkeypatch, value):
    monkeypatch.setenv(threads.ENV_VAR, value)
    with pytest.raises(OrlearnError, match=threads.ENV_VAR):
        threads.resolve_threads(None, "batched")


def test_a_bad_option_is_refused():
    with pytest.raises(OrlearnError, match="--threads must be at least 1"):
        threads.resolve_threads(0, "small")


def test_machine_facts_are_sane():
    assert threads.physical_cores() >= 1
    assert threads.machine_load() >= 0.0
