import pytest

from tfvidgen import validation


def test_positive_int_accepts_and_rejects():
    assert validation.positive_int("frames", 3) == 3
    with pytest.raises(ValueError, match=r"`frames` must be a positive integer.*frames=0"):
        validation.positive_int("frames", 0)
    with pytest.raises(TypeError, match="`frames`"):
        validation.positive_int("frames", 2.5)
    with pytest.raises(TypeError):
        validation.positive_int("frames", True)


def test_non_negative_float_accepts_zero_and_rejects_negative_infinite_and_non_numbers():
    assert validation.non_negative_float("weight", 0) == 0.0 and validation.non_negative_float("weight", 2) == 2.0
    for bad in (-0.5, float("inf"), float("nan")):
        with pytest.raises(ValueError, match=r"`weight` must be a finite non-negative number \(>= 0\)"):
            validation.non_negative_float("weight", bad)
    with pytest.raises(TypeError, match="`weight` must be a non-negative number. Received: weight='1'"):
        validation.non_negative_float("weight", "1")


def test_frame_size_and_channels():
    assert validation.frame_size("frame_size", 16) == (16, 16)
    assert validation.frame_size("frame_size", (8, 12)) == (8, 12)
    with pytest.raises(ValueError, match="`frame_size`.*Received: frame_size=\\(0, 4\\)"):
        validation.frame_size("frame_size", (0, 4))
    with pytest.raises(ValueError, match="`channels` must be 1 \\(grayscale\\) or 3"):
        validation.channels("channels", 2)


def test_one_of_and_int_list():
    assert validation.one_of("loss", "mse", ("mse", "bce")) == "mse"
    with pytest.raises(ValueError, match="`loss` must be one of 'mse', 'bce'. Received: loss='l3'"):
        validation.one_of("loss", "l3", ("mse", "bce"))
    assert validation.int_list("filters", 8, length=3) == [8, 8, 8]
    with pytest.raises(ValueError, match="must have 2 entries"):
        validation.int_list("filters", [8, 8, 8], length=2)
