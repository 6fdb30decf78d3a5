"""jaxdl.optim against torch's OptimizerInfo configurations (tests/torch_optim_db.py): 50-step float64 trajectories
with two param groups within 1e-9 (LBFGS: its closure step, one group, and its counters), and torch's bad
arguments refused in one line.

CI runs a stratified part (one configuration per class, a different index for each class: ``IN_CI``); ``pytest
--parity-all`` runs every configuration.
"""
import re

import pytest

from jaxdl import optim
from tests import torch_optim_db as db

CONFIGS = [(name, i, desc, kw) for name in db.NAMES for i, (desc, kw) in enumerate(db.configs(name))]
COUNTS = {name: sum(c[0] == name for c in CONFIGS) for name in db.NAMES}
# CI: one configuration per class, rotating with the class's position (the default for the first, then others);
# LBFGS: its quickest (the parity suite's optim.lbfgs runs its default and strong_wolfe ones in CI already)
CI_PICK = {"LBFGS": 3}
IN_CI = {(name, CI_PICK.get(name, k % COUNTS[name])) for k, name in enumerate(db.NAMES)}
TRAJECTORIES = [pytest.param(*c, id=f"{c[0]}-{c[1]}-{c[2]}", marks=() if c[:2] in IN_CI else pytest.mark.parity_all)
                for c in CONFIGS]
ERRORS = [(name, i, *e) for name in db.NAMES for i, e in enumerate(db.error_inputs(name)) if e[0]]



@pytest.mark.parametrize("name,i,desc,kwargs", TRAJECTORIES)
def test_torch_optim_db_trajectory(name, i, desc, kwargs, request):
    if (name, desc) in db.KNOWN_DEVIATIONS:
        request.applymarker(pytest.mark.xfail(reason=db.KNOWN_DEVIATIONS[name, desc], strict=True))
    db.assert_same_trajectory(*db.run(name, kwargs))


def test_sparse_adam_is_refused_in_one_line():
    assert "SparseAdam" in db.optim_db()  # torch has it; JAX has no sparse gradients
    with pytest.raises(NotImplementedError, match="^SparseAdam has no JAX counterpart: JAX has no sparse gradients"):
        optim.sparse_adam(lr=1e-3)


@pytest.mark.parametrize("name,i,applies,why,params,kwargs,error_type,regex", ERRORS,
                         ids=[f"{e[0]}-{e[1]}" for e in ERRORS])
def test_torch_optim_db_error_inputs_refused(name, i, applies, why, params, kwargs, error_type, regex):
    message = db.refuses(name, params, kwargs, error_type, regex)
    assert re.search(db.REWORDED.get(regex, regex), message), (message, regex)
