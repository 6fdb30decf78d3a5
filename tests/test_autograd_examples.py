"""examples/autograd_basics.py reproduces the lecture's autograd numbers (and torch's autograd on the same inputs)."""
import importlib.util
import pathlib

import numpy as np
import torch

PATH = pathlib.Path(__file__).parents[1] / "examples" / "autograd_basics.py"
spec = importlib.util.spec_from_file_location("autograd_basics", PATH)
ex = importlib.util.module_from_spec(spec)
spec.loader.exec_module(ex)


def test_logistic_grad_matches_lecture_and_torch():
    dw, db = ex.logistic_grad()
    np.testing.assert_allclose([float(dw), float(db)], [-0.0898, -0.0817], atol=5e-5)
    w = torch.tensor(2.2, requires_grad=True)
    b = torch.tensor(0.0, requires_grad=True)
    torch.nn.functional.binary_cross_entropy(torch.sigmoid(1.1 * w + b), torch.tensor(1.0)).backward()
    np.testing.assert_allclose([float(dw), float(db)], [w.grad.item(), b.grad.item()], rtol=1e-6)


def test_q_and_grads():
    value, da, db = ex.q_and_grads()
    assert float(value) == 53.0  # (24 - 36) + (81 - 16)
    np.testing.assert_array_equal(np.asarray(da), [36.0, 81.0])  # 9a²
    np.testing.assert_array_equal(np.asarray(db), [-12.0, -8.0])  # -2b


def test_gradient_descent_closed_form():
    np.testing.assert_allclose(float(ex.gradient_descent()), 2.99629, atol=5e-6)
    np.testing.assert_allclose(float(ex.gradient_descent()), 3 - 3 * 0.8**30, rtol=1e-6)  # x_k = 3 - 3·(1 - 2·lr)^k


def test_mean_cross_entropy():
    np.testing.assert_allclose(float(ex.mean_cross_entropy()), 1.3871, atol=5e-5)


def test_main_prints(capsys):
    ex.main()
    out = capsys.readouterr().out
    assert "-0.0898" in out and "Q = 53" in out and "2.99629" in out and "1.3871" in out
