"""The guard's benchmark (bench/guard.py) at a small size: both of its graphs pass the guard,
whose cut keeps the restore's part of the training graph and all of the chain."""

import guard


def test_the_benchmarks_graphs_pass_the_guard_at_a_small_size(tmp_path):
    training = guard.measure(*guard.training_graph(tmp_path, 500), repeat=1)
    assert 0 < training["imported"] < training["nodes"]
    chain = guard.measure(*guard.chain_graph(tmp_path, 200), repeat=1)
    assert chain["nodes"] >= 200 and chain["imported"] >= 200
