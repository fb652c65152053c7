"""The benchmark's job graph (bench/dag.py): its bounds on a graph made by hand, and the graph
it reads from a real run."""

import pytest

import dag
from ckptorder import orderings

# a (2 s) feeds b (3 s) and c (1 s), which both feed d (1 s).
GRAPH = {
    "a": dag.Job("a", "", needs=set()),
    "b": dag.Job("b", "", needs={"a"}),
    "c": dag.Job("c", "", needs={"a"}),
    "d": dag.Job("d", "", needs={"b", "c"}),
}
WALL = {"a": 2.0, "b": 3.0, "c": 1.0, "d": 1.0}


def test_the_longest_chain_runs_through_the_slowest_branch():
    assert dag.longest_chain(GRAPH, WALL) == 6.0


def test_the_schedule_is_the_sum_on_one_core_and_the_chain_with_cores_to_spare():
    assert dag.scheduled(GRAPH, WALL, cores=1) == 7.0
    assert dag.scheduled(GRAPH, WALL, cores=2) == 6.0


def test_the_job_with_the_longest_chain_ahead_starts_first():
    """p, q and z (1 s each) are ready at once and z feeds zz (5 s). On two cores, z first ends
    at 6 s; p and q first (their names come first) would end at 7 s."""
    graph = {name: dag.Job(name, "", needs=set()) for name in ("p", "q", "z")}
    graph["zz"] = dag.Job("zz", "", needs={"z"})
    wall = {"p": 1.0, "q": 1.0, "z": 1.0, "zz": 5.0}
    assert dag.scheduled(graph, wall, cores=2) == 6.0


@pytest.mark.workflow
def test_the_graph_read_from_snakemake_is_the_pipelines(pipeline):
    graph = dag.jobs(pipeline)
    exported = orderings.EXPORTED_FORMATS
    audited = ("seed", *(f"seed.{format_}" for format_ in exported))
    assert set(graph) == {
        *("build", "restore/seed", "report", "verify"),
        *(f"export/{format_}" for format_ in exported),
        *(f"load/seed.{format_}" for format_ in exported),
        *(
            f"{rule}/{name}"
            for rule in ("extract", "probes_figure", "outcomes_figure")
            for name in audited
        ),
    }
    assert graph["build"].needs == set()
    assert graph["report"].needs >= {"extract/seed"}
    assert graph["verify"].needs == {"report"}
    assert graph["build"].command.startswith("python scripts/build.py --settings ")
    assert all(job.command.startswith("python scripts/") for job in graph.values())
    walls = dag.walls(pipeline, graph)
    assert dag.scheduled(graph, walls, cores=1) == pytest.approx(sum(walls.values()))
