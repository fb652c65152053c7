import numpy as np
import pytest

from ckptorder import values
from ckptorder.values import Values, bitwise_equal, write_values


def test_bitwise_equality_is_by_bytes():
    assert not bitwise_equal(np.float32([0.0]), np.float32([-0.0]))
    assert bitwise_equal(np.float32([np.nan]), np.float32([np.nan]))
    assert not bitwise_equal(np.float32([1.0]), np.float64([1.0]))
    assert not bitwise_equal(np.float32([1.0, 2.0]), np.float32([[1.0, 2.0]]))


def test_values_round_trip_with_references(tmp_path):
    saved = {"a": np.arange(6, dtype=np.float32).reshape(2, 3), "b": np.float32([-0.0])}
    write_values(tmp_path / "saved.npz", saved.items())
    write_values(tmp_path / "state.npz", [("b", np.float32([7])), ("a", "saved")])
    with Values(tmp_path / "state.npz", {"saved": tmp_path / "saved.npz"}) as state:
        assert state.names == ["b", "a"]
        assert state.source("a") == "saved" and state.source("b") == "own"
        assert bitwise_equal(state.read("a"), saved["a"])
        assert bitwise_equal(state.read("b"), np.float32([7]))
        assert state.shape("a") == (2, 3) and state.shape("b") == (1,)
        assert state.equals("a", saved["a"]) and state.equals("b", np.float32([7]))
        assert not state.equals("b", np.float32([-7]))
        assert not state.equals("b", np.float64([7]))


def test_chunked_comparisons_cover_every_chunk(monkeypatch):
    monkeypatch.setattr(values, "CHUNK", 16)
    a = np.arange(40, dtype=np.float32)
    b = a.copy()
    b[-1] = -1
    assert bitwise_equal(a, a.copy()) and not bitwise_equal(a, b)
    assert values.max_abs_diff(a, b) == 40.0
    b[3] = np.nan
    assert np.isnan(values.max_abs_diff(a, b))


def test_a_large_array_is_compared_against_the_file_in_chunks(tmp_path, monkeypatch):
    monkeypatch.setattr(values, "CHUNK", 64)
    a = np.linspace(-1, 1, 1000, dtype=np.float32)
    write_values(tmp_path / "v.npz", [("a", a)])
    b = a.copy()
    b[999] = 2
    with Values(tmp_path / "v.npz") as stored:
        assert stored.equals("a", a) and not stored.equals("a", b)


def test_same_values_give_the_same_bytes(tmp_path):
    arrays = {"x": np.linspace(0, 1, 50, dtype=np.float32)}
    write_values(tmp_path / "one.npz", arrays.items())
    write_values(tmp_path / "two.npz", arrays.items())
    assert (tmp_path / "one.npz").read_bytes() == (tmp_path / "two.npz").read_bytes()
    assert not list(tmp_path.glob(".*tmp*"))


def test_a_cut_short_values_file_is_named(tmp_path):
    write_values(tmp_path / "v.npz", [("x", np.zeros(1000, np.float32))])
    data = (tmp_path / "v.npz").read_bytes()
    (tmp_path / "v.npz").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match=r"v\.npz: not a complete values file"):
        Values(tmp_path / "v.npz")


def test_a_scalar_keeps_its_shape_and_equals_itself(tmp_path):
    write_values(tmp_path / "saved.npz", [("global_step", np.int64(3))])
    with Values(tmp_path / "saved.npz") as saved:
        assert saved.read("global_step").shape == ()
        assert saved.equals("global_step", np.asarray(np.int64(3)))
