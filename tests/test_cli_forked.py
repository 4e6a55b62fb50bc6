"""`ordered_map`: results of forked workers come back in input order, and a worker's failure is raised."""

from __future__ import annotations

import os

import pytest

from aiguillage.cli.forked import WorkerFailed, ordered_map


def _square_and_pid(n: int) -> tuple[int, int]:
    return n * n, os.getpid()


def _fails_on_seven(n: int) -> int:
    if n == 7:
        raise ValueError("seven is not welcome")
    return n


def test_results_keep_input_order_across_workers() -> None:
    items = list(range(53))
    results = list(ordered_map(_square_and_pid, items, jobs=3, chunk=4))
    assert [value for value, _ in results] == [n * n for n in items]
    workers = {pid for _, pid in results}
    assert len(workers) == 3 and os.getpid() not in workers


def test_more_workers_than_chunks_and_empty_input() -> None:
    assert [v for v, _ in ordered_map(_square_and_pid, [1, 2], jobs=8, chunk=64)] == [1, 4]
    assert list(ordered_map(_square_and_pid, [], jobs=2, chunk=1)) == []


def test_a_failing_worker_is_raised_with_its_traceback() -> None:
    with pytest.raises(WorkerFailed, match="seven is not welcome"):
        list(ordered_map(_fails_on_seven, list(range(20)), jobs=2, chunk=3))


def test_the_parent_stopping_early_leaves_no_worker_behind() -> None:
    results = ordered_map(_square_and_pid, list(range(10_000)), jobs=2, chunk=1)
    first = next(results)
    results.close()  # the workers still writing see a broken pipe and exit; close() waits for them
    assert first[0] == 0
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)
