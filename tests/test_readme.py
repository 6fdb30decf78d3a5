"""The README's two set-up commands: CI must run the test command verbatim, and both must name real things."""
import pathlib
import re

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _commands():
    text = (ROOT / "README.md").read_text()
    quick = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```bash\n(.*?)\n```", quick, flags=re.S)


def test_quick_start_has_exactly_two_commands():
    assert len(_commands()) == 2, _commands()


def test_ci_runs_the_readme_test_command_verbatim():
    test_command = _commands()[1].strip()
    ci_lines = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    assert test_command in ci_lines


def test_main_job_config_exists():
    main_command = _commands()[0]
    config = re.search(r"(configs/\S+\.toml)", main_command).group(1)
    assert (ROOT / config).is_file()


def test_readme_links_point_at_files():
    text = (ROOT / "README.md").read_text()
    targets = re.findall(r"\]\(([^)\s]+)\)", text)
    assert targets, "the README links its figure and docs"
    for target in targets:
        assert (ROOT / target).is_file(), target


def test_tour_code_trains_one_step():
    import jax
    import jax.numpy as jnp
    import numpy as np

    code = re.findall(r"```python\n(.*?)\n```", (ROOT / "README.md").read_text(), flags=re.S)
    assert len(code) == 1
    namespace = {}
    exec(code[0], namespace)  # noqa: S102  (the README's own snippet)
    params, state, opt_state = namespace["params"], namespace["state"], namespace["opt_state"]
    x = jax.random.normal(jax.random.key(1), (16, 64))
    y = jnp.arange(16) % 10
    new_params, new_state, _, loss = namespace["step"](params, state, opt_state, x, y, jax.random.key(2))
    # An untrained 10-class classifier starts near ln(10); one AdamW step moves every weight by about lr.
    assert abs(float(loss) - np.log(10)) < 0.5
    moved = np.abs(np.asarray(new_params["0"]["weight"]) - np.asarray(params["0"]["weight"]))
    np.testing.assert_allclose(np.median(moved), 1e-3, rtol=0.5)
    assert int(new_state["1"]["num_batches_tracked"]) == 1


def _runs():
    from jaxdl.experiment.compare import read_runs

    return read_runs(ROOT / "docs" / "compare_runs.csv")


def _claim(name):
    return re.search(rf"<!-- claim:{name} -->(.*?)<!-- /claim -->", (ROOT / "README.md").read_text(), re.S).group(1)


def test_readme_comparison_table_comes_from_the_committed_runs():
    from jaxdl.experiment.compare import format_table

    text = (ROOT / "README.md").read_text()
    table = re.search(r"<!-- compare-table -->\n```\n(.*?)\n```", text, re.S).group(1)
    assert table == format_table(_runs())


def test_readme_claims_come_from_the_committed_runs():
    rows = _runs()
    at_lr1 = ", ".join(f"{r['optimizer']} {100 * r['acc_by_lr'][1.0]:.1f} %" for r in rows)
    assert " ".join(_claim("lr1").split()) == f"At lr = 1: {at_lr1}"
    above = [r["optimizer"] for r in rows if r["train_loss"] > r["val_loss"]]
    below = [r["optimizer"] for r in rows if r["train_loss"] <= r["val_loss"]]
    want = (f"At each best lr the final train loss (dropout active) is above the validation loss for "
            f"{', '.join(above)}" + (f" and below it for {', '.join(below)}" if below else ""))
    assert " ".join(_claim("loss").split()) == want


def test_committed_runs_match_the_shipped_compare_config():
    import numpy as np

    from jaxdl.config import load_config

    c = load_config(str(ROOT / "configs" / "compare_optimizers.toml")).compare
    rows = _runs()
    assert [r["optimizer"] for r in rows] == [v.label for v in c.variants]
    lrs = np.logspace(np.log10(c.lr_min), np.log10(c.lr_max), c.num_lrs)
    np.testing.assert_allclose(sorted(rows[0]["acc_by_lr"]), lrs, rtol=1e-5)


def _section(marker):
    return re.search(rf"<!-- {marker} -->\n```(?:py)?\n(.*?)\n```", (ROOT / "README.md").read_text(), re.S).group(1)


def _table_columns(text):
    """The printed lines without their numbers: what must be equal from one machine to the next."""
    return [re.sub(r"\d\.\d\de[+-]\d\d", "#", line).split() for line in text.splitlines()]


def test_resnet_from_torch_section_runs_as_written(capsys):
    # the README's "Carrying a torch model over" code, as written; its output is the pasted one up to rounding
    from tests.helpers import one_torch_thread

    with one_torch_thread():
        exec(_section("resnet-from-torch"), {})  # noqa: S102  (the README's own snippet)
    printed, pasted = capsys.readouterr().out.rstrip("\n"), _section("resnet-from-torch-output")
    accuracies = [float(a) for a in re.findall(r": (\d\.\d+)\n", printed + "\n")[:2]]
    np.testing.assert_allclose(accuracies, [float(a) for a in re.findall(r": (\d\.\d+)\n", pasted + "\n")[:2]],
                               atol=0.02)
    assert accuracies[1] > max(accuracies[0], 0.95), printed
    assert _table_columns(printed)[2:] == _table_columns(pasted)[2:], printed
    assert printed.endswith("all within the float32 tolerance")
