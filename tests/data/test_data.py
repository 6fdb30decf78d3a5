"""jaxdl.data: shapes, dtypes, seeded reproducibility, disjoint splits, and bad arguments."""
import numpy as np
import pytest

from jaxdl import data


def test_digits_split_is_seeded_disjoint_and_scaled():
    (xt, yt), (xv, yv), (xs, ys) = data.digits(val_fraction=0.2, test_fraction=0.2, seed=1)
    assert xt.shape[1] == 64 and xt.dtype == np.float32 and yt.dtype == np.int32
    assert len(xt) + len(xv) + len(xs) == 1797 and len(xv) == len(xs) == 359
    assert 0.0 <= xt.min() and xt.max() == 1.0 and set(np.unique(yt)) == set(range(10))
    rows = {r.tobytes() for r in xt}
    assert sum(r.tobytes() in rows for r in xs) < 5  # the digits set has a few duplicate images, nothing more
    again = data.digits(val_fraction=0.2, test_fraction=0.2, seed=1)[1][0]
    np.testing.assert_array_equal(xv, again)
    assert not np.array_equal(xv, data.digits(seed=2)[1][0])


@pytest.mark.parametrize("make,classes", [(data.two_moons, 2), (data.circles, 2), (data.spirals, 3)])
def test_toy_sets(make, classes):
    x, y = make(300, seed=0)
    assert x.shape == (300, 2) and x.dtype == np.float32 and y.shape == (300,)
    assert np.bincount(y).tolist() == [300 // classes] * classes
    np.testing.assert_array_equal(x, make(300, seed=0)[0])
    assert not np.array_equal(x, make(300, seed=1)[0])


def test_circles_radii():
    x, y = data.circles(200, noise=0.0, factor=0.5, seed=0)
    np.testing.assert_allclose(np.linalg.norm(x, axis=1), np.where(y == 1, 0.5, 1.0), rtol=1e-6)


@pytest.mark.parametrize("call", [lambda: data.spirals(1), lambda: data.two_moons(100, noise=-1.0),
                                  lambda: data.spirals(30, classes=1), lambda: data.circles(factor=1.5),
                                  lambda: data.digits(val_fraction=0.6, test_fraction=0.5)])
def test_bad_arguments_raise(call):
    with pytest.raises(ValueError):
        call()
