import json

import keras
import numpy as np
import pytest

from tfvidgen import schedules


def test_linear_schedule_with_delay():
    schedule = schedules.LinearSchedule(1.0, 0.2, steps=10, delay=5)
    values = [float(schedule(step)) for step in (0, 5, 10, 15, 100)]
    assert values == pytest.approx([1.0, 1.0, 0.6, 0.2, 0.2])


def test_exponential_and_inverse_sigmoid():
    exponential = schedules.ExponentialSchedule(1.0, 0.0, rate=0.5)
    assert [float(exponential(step)) for step in (0, 1, 3)] == pytest.approx([1.0, 0.5, 0.125])
    inverse = schedules.InverseSigmoidSchedule(k=10.0)
    assert float(inverse(0)) == pytest.approx(10 / 11)
    assert float(inverse(100)) == pytest.approx(10 / (10 + 2.718281828**10), rel=1e-4)
    assert float(inverse(10**7)) == pytest.approx(0.0, abs=1e-20)  # No overflow.


def test_cyclical_ramps_then_holds():
    schedule = schedules.CyclicalSchedule(period=10, ramp_fraction=0.5, low=0.0, high=1.0)
    assert [float(schedule(step)) for step in (0, 2, 5, 9, 10, 12)] == pytest.approx([0, 0.4, 1, 1, 0, 0.4])


@pytest.mark.parametrize(
    "schedule",
    [
        schedules.LinearSchedule(1.0, 0.0, steps=3),
        schedules.ExponentialSchedule(rate=0.9),
        schedules.InverseSigmoidSchedule(k=5.0),
        schedules.CyclicalSchedule(period=4),
    ],
)
def test_serialization_round_trip(schedule):
    config = json.loads(json.dumps(schedules.serialize(schedule)))
    restored = schedules.deserialize(config)
    assert type(restored) is type(schedule)
    assert float(restored(2)) == pytest.approx(float(schedule(2)))
    assert schedules.serialize(0.5) == 0.5 and schedules.deserialize(None) is None
    assert float(schedules.value_at(0.25, 10)) == 0.25


def test_bad_arguments():
    with pytest.raises(ValueError, match="`rate` must be in \\(0, 1\\)"):
        schedules.ExponentialSchedule(rate=1.5)
    with pytest.raises(ValueError, match="`k` must be >= 1"):
        schedules.InverseSigmoidSchedule(k=0.5)
    with pytest.raises(ValueError, match="`steps`"):
        schedules.LinearSchedule(1.0, 0.0, steps=0)
    assert isinstance(schedules.LinearSchedule(1, 0, 1), keras.optimizers.schedules.LearningRateSchedule)


def test_number_or_schedule_checks_numbers_and_rebuilds_schedules():
    from tfvidgen import validation

    schedule = schedules.LinearSchedule(0.0, 1.0, steps=4)
    assert schedules.number_or_schedule("beta", schedule, validation.non_negative_float) is schedule
    config = json.loads(json.dumps(schedules.serialize(schedule)))
    restored = schedules.number_or_schedule("beta", config, validation.non_negative_float)
    assert float(restored(2)) == pytest.approx(0.5)
    value = schedules.number_or_schedule("teacher_forcing", np.float32(0.25), validation.probability)
    assert value == 0.25 and type(value) is float  # A NumPy scalar becomes a float, which serializes as JSON.
    with pytest.raises(ValueError, match=r"`teacher_forcing` must be in \[0, 1\]. Received: teacher_forcing=1.5"):
        schedules.number_or_schedule("teacher_forcing", 1.5, validation.probability)
    with pytest.raises(TypeError, match="`beta` must be a non-negative number. Received: beta='0.5'"):
        schedules.number_or_schedule("beta", "0.5", validation.non_negative_float)
