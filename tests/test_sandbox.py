"""The sandbox (scripts/ckptorder/sandbox.py), the kernel's half of the defence: what a
confined job cannot do, shown on the real kernel, and, with the guard switched off by the
tests' own hook, that the sandbox alone stops what crafted files do. Skipped where the kernel
has no Landlock."""

import json
import os
import socket
import subprocess
import sys

import numpy as np
import pytest

from ckptorder import sandbox
from ckptorder.values import Values
from conftest import PROJECT
from test_graph_guard import (
    INIT_ONLY,
    INIT_THEN_RESTORE,
    RESTORE_ONLY,
    crafted,
    honest,
    settings,
    write_in_function,
    write_in_initializer,
    write_in_restore_op,
    written,
)

pytestmark = pytest.mark.skipif(not sandbox.landlock_abi(), reason="no Landlock in this kernel")

GUARD_OFF = {"CKPTORDER_TESTS_SWITCH_THE_GUARD_OFF": "1"}


def attempts(given, secret, outside, port):
    """What a confined job tries, by name: each a function that raises where it is refused."""
    return {
        "read a file it is given": lambda: (given / "model.txt").read_text(),
        "read the user's file": lambda: secret.read_text(),
        "read /etc/shadow": lambda: open("/etc/shadow").read(),
        "read another process's environment": lambda: open("/proc/1/environ", "rb").read(),
        "write outside its output": lambda: outside.write_text("stolen"),
        "connect over TCP": lambda: socket.create_connection(("127.0.0.1", port), timeout=5),
        "open a UDP socket": lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM),
        "open a unix socket": lambda: socket.socket(socket.AF_UNIX),
        "allocate 64 GiB": lambda: bytearray(64 * 2**30),
        "follow a link out of its folder": lambda: (given / "link").read_text(),
    }


def test_a_confined_job_reads_and_writes_only_what_it_is_given(tmp_path):
    given, secret, outside = tmp_path / "given", tmp_path / "secret.txt", tmp_path / "out.txt"
    given.mkdir()
    (given / "model.txt").write_text("weights")
    secret.write_text("the user's secret")
    (given / "link").symlink_to(secret)
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    output = tmp_path / "results" / "answer.json"

    def work(staged):
        answers = {}
        for name, attempt in attempts(given, secret, outside, port).items():
            try:
                attempt()
                answers[name] = "allowed"
            except (OSError, MemoryError) as error:
                answers[name] = type(error).__name__
        with open(staged[0], "w") as handle:
            json.dump(answers, handle)

    with listener:
        sandbox.run_confined(work, [str(output)], [str(given)], memory_mb=1000)
    answers = json.loads(output.read_text())
    assert answers.pop("read a file it is given") == "allowed"
    assert answers.pop("allocate 64 GiB") == "MemoryError"
    assert set(answers.values()) == {"PermissionError"}, answers
    assert not outside.exists()
    assert list(output.parent.iterdir()) == [output]  # no staging folder left


def test_a_confined_job_that_fails_leaves_nothing(tmp_path):
    output = tmp_path / "values"

    def work(staged):
        os.mkdir(staged[0])
        (tmp_path / "half.npz").write_text("")  # outside its staging folder
        raise AssertionError("not reached: the write above is refused")

    with pytest.raises(SystemExit) as stopped:
        sandbox.run_confined(work, [str(output)], [], memory_mb=1000)
    assert stopped.value.code == 1
    assert list(tmp_path.iterdir()) == []


def run_unguarded(script, env=GUARD_OFF, **options):
    """scripts/SCRIPT.py in a process of its own, confined, with the guard switched off."""
    command = [sys.executable, PROJECT / "scripts" / f"{script}.py", "--sandbox", "required"]
    command += [arg for key, value in options.items() for arg in (f"--{key}", value)]
    return subprocess.run(
        command, capture_output=True, text=True, check=False, env={**os.environ, **env}
    )


WRITES = {
    "WriteFile grouped into an initializer": (write_in_initializer, INIT_THEN_RESTORE),
    "WriteFile in a function an initializer calls": (write_in_function, INIT_THEN_RESTORE),
    "the Saver's restore op grouped with a write": (write_in_restore_op, RESTORE_ONLY),
}


@pytest.mark.parametrize("case", WRITES, ids=list(WRITES))
def test_the_sandbox_alone_stops_a_crafted_graphs_write(tmp_path, case):
    """With the guard off the graph runs, and its write is refused by the kernel: the
    ordering fails in TensorFlow's words, nothing is written."""
    make, ordering = WRITES[case]
    target = tmp_path / "outside" / "written.txt"
    target.parent.mkdir()
    prefix = crafted(tmp_path, lambda: make(target))
    finished = run_unguarded(
        "restore", settings=settings(ordering), checkpoint=prefix, output=tmp_path / "values"
    )
    assert finished.returncode == 0, finished.stderr
    with Values(tmp_path / "values" / f"{ordering}.npz") as values:
        assert values.failed.startswith("PermissionDeniedError: ")
        assert values.failed.endswith(f"{target}; Permission denied")
    assert not written(target)


def test_the_guard_refuses_the_same_graph_in_one_line(tmp_path):
    """The hook is the tests' alone: without it, the same command is refused by the guard."""
    target = tmp_path / "written.txt"
    prefix = crafted(tmp_path, lambda: write_in_initializer(target))
    finished = run_unguarded(
        "restore",
        env={},
        settings=settings(INIT_ONLY),
        checkpoint=prefix,
        output=tmp_path / "values",
    )
    assert finished.returncode == 1
    assert "refused, restoring would run" in finished.stderr.splitlines()[-1]
    assert not written(target) and not (tmp_path / "values").exists()


def test_the_sandbox_alone_keeps_a_secret_out_of_the_results(tmp_path):
    """A graph whose initializer reads a file outside the checkpoint's folder into a
    variable: with the guard off, the kernel refuses the read."""
    from ckptorder.tfsession import tf

    secret = tmp_path / "secret.bin"
    secret.write_bytes(np.arange(4, dtype=np.float32).tobytes())
    folder = tmp_path / "checkpoint"
    folder.mkdir()

    def steal():
        stolen = tf.reshape(tf.io.decode_raw(tf.io.read_file(str(secret)), tf.float32), [2, 2])
        tf.compat.v1.get_variable("v", initializer=stolen)

    prefix = crafted(folder, steal)
    values = tmp_path / "values"
    finished = run_unguarded(
        "restore", settings=settings(INIT_ONLY), checkpoint=prefix, output=values
    )
    assert finished.returncode == 0, finished.stderr
    for path in values.glob("*"):
        assert secret.read_bytes() not in path.read_bytes(), path


def test_a_checkpoint_file_linked_out_of_its_folder_is_refused_in_one_line(tmp_path):
    """6. The prefix's files are links to another checkpoint: refused before anything is read,
    naming the link and its target; and the kernel would not read them either."""
    other = crafted(tmp_path, honest, value=1.0)
    folder = tmp_path / "given"
    folder.mkdir()
    for suffix in (".index", ".data-00000-of-00001", ".meta"):
        (folder / f"model.ckpt{suffix}").symlink_to(f"../model.ckpt{suffix}")
    finished = run_unguarded(
        "restore",
        settings=settings(RESTORE_ONLY),
        checkpoint=folder / "model.ckpt",
        output=tmp_path / "values",
    )
    assert finished.returncode == 1
    line = finished.stderr.strip().splitlines()[-1]
    assert line.startswith(f"error: {folder}/model.ckpt") and f"a link to {other}" in line
    assert not (tmp_path / "values").exists()
    assert sandbox.entry_reads([folder / "model.ckpt"]) == []


def test_results_are_the_same_bytes_confined_or_not(tmp_path):
    """The seed's orderings on a crafted honest checkpoint: the job confined (a process of
    its own) and unconfined (in this process, which has imported TensorFlow)."""
    from conftest import run_restore

    prefix = crafted(tmp_path, honest, value=1.0)
    finished = run_unguarded(
        "restore",
        env={},
        settings=settings(INIT_ONLY, RESTORE_ONLY),
        checkpoint=prefix,
        output=tmp_path / "confined",
    )
    assert finished.returncode == 0, finished.stderr
    run_restore(settings(INIT_ONLY, RESTORE_ONLY), prefix, tmp_path / "here")
    here, confined = tmp_path / "here", tmp_path / "confined"
    names = sorted(p.name for p in here.iterdir())
    assert names == sorted(p.name for p in confined.iterdir())
    for name in names:
        assert (here / name).read_bytes() == (confined / name).read_bytes(), name
