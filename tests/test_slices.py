import numpy as np
import pytest

from ckptorder import slices


@pytest.mark.parametrize(
    "text",
    ["[1, :, :, 1]", "[-2, 0:3:2, ..., 1]", "[...]", "[::-1, 1]", "[ 0 , +1: , :-1 ]", "[..., 0]"],
)
def test_coordinates_match_numpy_basic_indexing(text):
    array = np.arange(3 * 4 * 5 * 6).reshape(3, 4, 5, 6)
    key = slices.parse(text)
    expected = array[key].ravel()
    coordinates = slices.coordinates(text, array.shape)
    assert [array[c] for c in coordinates] == expected.tolist()


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("[1, :, :", "brackets"),
        ("[a]", "cannot read 'a'"),
        ("__import__('os')", "brackets"),
        ("[__import__('os')]", "cannot read"),
        ("[]", "empty"),
        ("[..., 1, ...]", "more than one"),
        ("[::0]", "must not be 0"),
        ("[1.5]", "cannot read"),
    ],
)
def test_bad_slices_are_rejected_without_eval(text, words):
    with pytest.raises(ValueError, match="slice") as error:
        slices.axis_indices(text, (3, 3, 3, 32))
    assert words in str(error.value)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("[1, :, :, 1, 0]", "5 indices but the tensor has 4 dimensions"),
        ("[3, :, :, 1]", "index 3 is out of range for axis 0 of size 3"),
        ("[-4]", "out of range"),
        ("[5:9]", "selects no values"),
    ],
)
def test_slices_are_checked_against_the_shape(text, words):
    with pytest.raises(ValueError, match="slice") as error:
        slices.axis_indices(text, (3, 3, 3, 32))
    assert words in str(error.value)
