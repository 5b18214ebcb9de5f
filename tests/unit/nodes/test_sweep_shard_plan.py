"""Shard planning: how many shards a sweep gets, and which node ids each covers."""
from __future__ import annotations

import pytest

from apps.nodes.sweep_shards import LAST_NODE_ID, plan_shard_count, split_ranges


@pytest.mark.parametrize("nodes,workers,per_shard,expected", [
    (10_000, 2, 500, 2),   # one shard per live worker
    (10_000, 40, 500, 20),  # never below 500 nodes a shard
    (499, 4, 500, 1),      # a small fleet stays one shard
    (1_000, 4, 500, 2),
    (1_000, 0, 500, 1),    # no worker seen (yet): the tick's own process sweeps it all
    (0, 3, 500, 1),
])
def test_it_plans_one_shard_per_worker_but_none_too_small(nodes, workers, per_shard, expected):
    assert plan_shard_count(nodes, workers, per_shard) == expected


def test_it_splits_ids_into_contiguous_ranges_that_cover_every_id():
    ids = [3, 4, 9, 10, 11, 20, 21]
    ranges = split_ranges(ids, 3)
    assert ranges == [(0, 9, 3), (10, 19, 2), (20, LAST_NODE_ID, 2)]
    for node_id in ids + [1, 15, 10**12]:  # a node added meanwhile still falls in exactly one
        assert sum(first <= node_id <= last for first, last, _ in ranges) == 1
    assert sum(n for *_, n in ranges) == len(ids)


def test_it_never_makes_more_ranges_than_ids():
    assert split_ranges([5, 6], 4) == [(0, 5, 1), (6, LAST_NODE_ID, 1)]
    assert split_ranges([], 3) == [(0, LAST_NODE_ID, 0)]
