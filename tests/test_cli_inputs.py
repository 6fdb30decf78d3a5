"""Unusual inputs a new user gives the jaxdl command (issue 22): each is one line naming the key, value or file and
what is allowed (exit 2 for usage, 1 for a failed run, 130 for Ctrl-C), never a traceback or a quiet other run."""
import gc
import math
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from jaxdl.cli import main
from jaxdl.config import ConfigError, load_config
from jaxdl.config._load import parse_value

DIGITS = "configs/digits_mlp.toml"
COMPARE = "configs/compare_optimizers.toml"


def one_line(capsys, words, start="jaxdl: error: "):
    err = capsys.readouterr().err
    assert err.startswith(start) and err.count("\n") == 1, err
    for w in [words] if isinstance(words, str) else words:
        assert w in err, err
    return err


def sets(*items):
    return sum((["--set", s] for s in items), [])


# --- 1. a config not saved as UTF-8: one line from every command that reads one --------------------------------
TEXT = "# The lecture MLP on the digits\n[optim]\nname = 'adamw'\n"
ENCODINGS = {
    "latin-1": ("# café\n" + TEXT).encode("latin-1"),
    "utf-16": TEXT.encode("utf-16"),          # with its BOM
    "utf-16-le": TEXT.encode("utf-16-le"),    # without: NULs
    "binary": bytes(range(256)) * 4,
    "utf-8-bom": TEXT.encode("utf-8-sig"),
}


@pytest.mark.parametrize("command", ["train", "params", "compare"])
@pytest.mark.parametrize("encoding", ENCODINGS)
def test_config_not_utf8_is_one_line(command, encoding, tmp_path, capsys):
    path = tmp_path / "c.toml"
    path.write_bytes(ENCODINGS[encoding])
    assert main([command, str(path)]) == 2
    one_line(capsys, [f"config file {str(path)!r}", "TOML files must be UTF-8"])


# --- 2. seeds: one rule, the range numpy's default_rng and jax.random.key both take ---------------------------
def test_seed_rule_is_numpys_and_jaxs_real_range():
    import jax

    from jaxdl._rules import SEED_MAX, is_valid_seed

    np.random.default_rng(SEED_MAX)
    jax.random.key(SEED_MAX)
    with pytest.raises(ValueError):
        np.random.default_rng(-1)            # numpy: below 0
    with pytest.raises(OverflowError):
        jax.random.key(SEED_MAX + 1)         # JAX: beyond int64
    assert is_valid_seed(0) and is_valid_seed(SEED_MAX)
    assert not any(is_valid_seed(s) for s in (-1, SEED_MAX + 1, True, 1.0))


@pytest.mark.parametrize("command,item", [
    ("train", "data.seed=-1"), ("train", "train.seed=18446744073709551617"), ("compare", "compare.seeds=[0, -1]"),
    ("params", "data.seed=9223372036854775808")])
def test_bad_seed_is_one_line(command, item, capsys):
    assert main([command, COMPARE if command == "compare" else DIGITS, "--set", item]) == 2
    one_line(capsys, ["seed", "[0, 2**63 - 1]"])


# --- 3. a model too large for the machine is refused before anything is allocated -----------------------------
def test_a_model_beyond_the_memory_is_refused(capsys):
    t0 = time.perf_counter()
    assert main(["train", DIGITS, "--no-progress", "--set", "model.hidden=[1000000000]"]) == 2
    err = one_line(capsys, ["this config needs at least", "weights, gradients and optimizer state", "JAXDL_MEMORY_GB"])
    assert time.perf_counter() - t0 < 60
    # AdamW: weights + gradients + two moments, 4 bytes each, of torch's numel (Linear(64, 1e9), BatchNorm1d(1e9),
    # Linear(1e9, 10)), plus BatchNorm's two running-stat buffers
    need = float(err.split("at least ")[1].split(" GB")[0].replace(",", ""))
    assert need == pytest.approx((16 * (64e9 + 1e9 + 2e9 + 10e9 + 10) + 4 * 2e9) / 1e9, rel=1e-4)


def test_training_state_bytes_against_torchs_count():
    from jaxdl.experiment import build_model, build_tx
    from jaxdl.experiment._memory import training_state_bytes

    cfg = load_config(DIGITS)
    params = 64 * 128 + 128 + 2 * 128 + 128 * 64 + 64 + 2 * 64 + 64 * 10 + 10   # torch's numel of the lecture MLP
    buffers = 2 * (128 + 64) * 4 + 2 * 8                                        # running stats, num_batches_tracked
    got = training_state_bytes(build_model(cfg, 64), build_tx(cfg.optim))
    assert 16 * params + buffers <= got <= 16 * params + buffers + 256, got     # + AdamW's step counts


def test_memory_override_and_sweep_copies(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("JAXDL_MEMORY_GB", "0.001")
    assert main(["compare", COMPARE, "--no-progress", "--out", str(tmp_path / "c")]) == 2
    one_line(capsys, ["45 copies ×", "JAXDL_MEMORY_GB=0.001 is 0.0 GB"])
    monkeypatch.setenv("JAXDL_MEMORY_GB", "lots")
    assert main(["train", DIGITS, "--no-progress"]) == 2
    one_line(capsys, "JAXDL_MEMORY_GB='lots': expected a number of GB > 0")


# --- 4. Ctrl-C: one line saying what was saved and how to resume, exit 130 -------------------------------------
def test_ctrl_c_during_train_says_what_was_saved(tmp_path):
    out = tmp_path / "run"
    command = [sys.executable, "-m", "jaxdl", "train", "configs/logreg_moons.toml", "--no-progress", "--out",
               str(out), "--set", "train.epochs=1000000", "--set", "train.mode=loop"]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": os.getcwd()})
    try:
        deadline = time.monotonic() + 120
        while not (out / "checkpoint.msgpack").exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert proc.poll() is None, proc.communicate()
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()  # reaps it and closes its pipes (left open, a later test saw ResourceWarnings)
    assert proc.returncode == 130, err
    assert err.startswith("jaxdl: interrupted (Ctrl-C): ") and err.count("\n") == 1, err
    assert f"{out / 'checkpoint.msgpack'} holds epoch " in err and f"--out {out} --resume" in err, err
    assert "Traceback" not in err


def test_ctrl_c_without_an_output_folder(monkeypatch, capsys):
    import jaxdl.experiment

    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(jaxdl.experiment, "run_train", interrupt)
    assert main(["train", DIGITS, "--no-progress"]) == 130
    one_line(capsys, "nothing was saved (no --out", start="jaxdl: interrupted (Ctrl-C): ")


# --- 5. sample: --prompt-ids are used; options of --weights are refused with a checkpoint ----------------------
@pytest.fixture(scope="module")
def gpt_checkpoint(tmp_path_factory):
    """A checkpoint as `jaxdl train` writes one for a GPT config (its model config and vocabulary in the metadata)."""
    import jax

    from jaxdl.nn import GPT
    from jaxdl.optim import adamw
    from jaxdl.train import TrainState, save_checkpoint

    model = GPT(vocab_size=6, context_length=8, emb_dim=8, n_heads=2, n_layers=1)
    path = str(tmp_path_factory.mktemp("gpt") / "checkpoint.msgpack")
    save_checkpoint(path, TrainState.create(model, adamw(lr=1e-3), jax.random.key(0)), {"epoch": 1},
                    metadata={"model": model.config(), "vocab": "abcdef"})
    return path


def test_sample_uses_the_prompt_ids(gpt_checkpoint, capsys):
    assert main(["sample", gpt_checkpoint, "--prompt-ids", "1,2,3", "--max-new-tokens", "2"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("bcd") and len(out) == 5 + 1 and set(out[3:5]) <= set("abcdef"), repr(out)


@pytest.mark.parametrize("args,words", [
    (["--source", "nanogpt"], "--source apply to --weights only"),
    (["--n-heads", "4", "--source", "rasbt"], "--source and --n-heads apply to --weights only"),
    (["--prompt", "ab", "--prompt-ids", "1"], "give --prompt or --prompt-ids, not both"),
    (["--prompt-ids", "1,99999"], "idx holds ids outside [0, vocab_size="),
    (["--seed", "-1"], "--seed -1: expected an int in [0, 2**63 - 1]"),
    (["--temperature", "nan", "--prompt-ids", "1"], "temperature must be ≥ 0"),
])
def test_sample_refuses_what_it_would_ignore(gpt_checkpoint, args, words, capsys):
    capsys.readouterr()
    assert main(["sample", gpt_checkpoint, "--max-new-tokens", "2", *args]) == 2
    one_line(capsys, words)


def test_sample_weights_refuse_a_text_prompt(tmp_path, capsys):
    weights = tmp_path / "w.safetensors"
    weights.write_bytes(b"")
    assert main(["sample", "--weights", str(weights), "--source", "rasbt", "--n-heads", "2", "--prompt-ids", "1",
                 "--prompt", "hi"]) == 2
    one_line(capsys, "--prompt does not apply to --weights")


# --- 6. a command refuses the tables and keys it would ignore ---------------------------------------------------
def test_train_refuses_a_compare_table(capsys):
    assert main(["train", COMPARE, "--no-progress"]) == 2
    one_line(capsys, ["[compare] table", "jaxdl compare CONFIG"])


def test_compare_refuses_train_keys_it_does_not_use(tmp_path, capsys):
    assert main(["compare", COMPARE, "--out", str(tmp_path / "c"), *sets("train.patience=1", "train.mode=loop")]) == 2
    one_line(capsys, ["jaxdl compare does not use train.mode, train.patience", "no early stopping"])


# --- 7. an empty test split is refused as an empty validation split is ----------------------------------------
@pytest.mark.parametrize("item,split", [("data.test_fraction=0.0001", "test"), ("data.val_fraction=0.0001",
                                                                                 "validation")])
def test_an_empty_split_is_one_line(item, split, tmp_path, capsys):
    assert main(["train", DIGITS, "--no-progress", "--set", item]) == 2
    one_line(capsys, [f"the {split} split is empty (data.kind = 'digits', data.{item.split('.')[1].split('=')[0]} "
                      "= 0.0001)"])


# --- 8. --set values as TOML spells them (and as Python does) ---------------------------------------------------
@pytest.mark.parametrize("text,value", [
    ("false", False), ("True", True), ("[32, 16]", [32, 16]), ("(0.9, 0.99)", (0.9, 0.99)), ("'adam'", "adam"),
    ('"adam"', "adam"), ("adam", "adam"), ("1e-3", 1e-3), ("1_000", 1000), ("inf", math.inf),
    ("/tmp/a#b.npz", "/tmp/a#b.npz"), ("1\nx = 2", "1\nx = 2")])
def test_set_values_read_as_toml_then_python(text, value):
    assert parse_value(text) == value and type(parse_value(text)) is type(value)


def test_set_batchnorm_false_as_toml_spells_it():
    assert load_config(DIGITS, ["model.batchnorm=false"]).model.batchnorm is False


# --- 9. NaN or inf in an .npz: reported at load, naming the file and the array -------------------------------
@pytest.mark.parametrize("bad,words", [(np.nan, "x_train holds 1 NaN or infinite value(s) as float32, the first at "
                                                "row 3, column 1"),
                                       (1e300, "x_train holds 1 NaN or infinite")])  # beyond float32: inf
def test_nan_in_npz_is_one_line(bad, words, tmp_path, capsys):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((40, 2))
    x[3, 1] = bad
    path = tmp_path / "d.npz"
    np.savez(path, x_train=x, y_train=np.arange(40) % 2, x_val=x[:10] * 0, y_val=np.arange(10) % 2)
    config = tmp_path / "c.toml"
    config.write_text(f"[model]\nout_features = 2\n[data]\nkind = 'npz'\npath = '{path}'\n")
    assert main(["train", str(config), "--no-progress"]) == 2
    one_line(capsys, [f"data.path = {str(path)!r}", words])


# --- 10. train says which precision is on ------------------------------------------------------------------------
@pytest.mark.parametrize("precision", ["fp32", "bf16-mixed"])
def test_train_prints_the_precision(precision, capsys):
    assert main(["train", "configs/logreg_moons.toml", "--no-progress", "--set", "train.epochs=1", "--set",
                 f"train.precision='{precision}'"]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    assert first.startswith(f"precision: train.precision = '{precision}' (") and "float32 matmul precision" in first


def test_config_error_is_config_error():
    with pytest.raises(ConfigError, match="data.seed = -1 is not allowed"):
        load_config(DIGITS, ["data.seed=-1"])


# --- beyond the list: what the trial of unusual inputs found -------------------------------------------
def test_an_empty_config_is_refused(tmp_path, capsys):
    (tmp_path / "empty.toml").write_text("# nothing yet\n")
    assert main(["train", str(tmp_path / "empty.toml")]) == 2
    one_line(capsys, "is empty (no [model], [data], [optim] or [train] table)")


@pytest.mark.parametrize("kind,words", [("npy", "holds one ndarray (a .npy file?)"),
                                        ("no features", "x_train must be real numbers of shape (N, features ≥ 1)"),
                                        ("empty", "the training split is empty (data.kind = 'npz', data.path = ")])
def test_npz_files_that_are_not_data(kind, words, tmp_path, capsys):
    path = tmp_path / "d.npz"
    x, y = np.ones((10, 3), np.float32), np.arange(10) % 2
    if kind == "npy":
        with open(path, "wb") as f:
            np.save(f, x)
    else:
        x = x[:, :0] if kind == "no features" else x[:0]
        y = y if kind == "no features" else y[:0]
        np.savez(path, x_train=x, y_train=y, x_val=x, y_val=y)
    config = tmp_path / "c.toml"
    config.write_text(f"[model]\nout_features = 2\n[data]\nkind = 'npz'\npath = '{path}'\n")
    assert main(["train", str(config), "--no-progress"]) == 2
    one_line(capsys, words)


def test_weights_that_are_not_safetensors_are_one_line(tmp_path, capsys):
    weights = tmp_path / "w.safetensors"
    weights.write_bytes(b"hello")
    assert main(["sample", "--weights", str(weights), "--source", "rasbt", "--n-heads", "2",
                 "--prompt-ids", "1"]) == 1
    one_line(capsys, f"weights file {weights} is not a .safetensors file")


@pytest.mark.parametrize("command", ["train", "compare"])
def test_an_empty_out_is_refused(command, capsys):
    assert main([command, COMPARE if command == "compare" else DIGITS, "--no-progress", "--out", ""]) == 2
    one_line(capsys, "''")


def test_generated_data_beyond_the_memory_is_refused(capsys):
    assert main(["train", "configs/logreg_moons.toml", "--no-progress", "--set", "data.n=100000000000"]) == 2
    one_line(capsys, ["data.n = 100,000,000,000 points of data.kind = 'moons'", "use a smaller data.n"])


@pytest.mark.parametrize("command", ["train", "compare"])
def test_running_out_of_memory_is_one_line_exit_1(command, monkeypatch, tmp_path, capsys):
    import jaxdl.experiment
    import jaxdl.experiment.compare

    def exhausted(*args, **kwargs):
        import jax
        raise jax.errors.JaxRuntimeError("RESOURCE_EXHAUSTED: Out of memory while trying to allocate 9 bytes.")

    monkeypatch.setattr(jaxdl.experiment, "run_train", exhausted)
    monkeypatch.setattr(jaxdl.experiment.compare, "run_compare", exhausted)
    assert main([command, COMPARE if command == "compare" else DIGITS, "--no-progress", "--out",
                 str(tmp_path / "o")]) == 1
    one_line(capsys, ["out of memory while running (RESOURCE_EXHAUSTED: Out of memory", "not activations"])


def test_more_text_than_the_standard_library_holds_is_refused(capsys):
    from jaxdl.data import stdlib_corpus

    have = len(stdlib_corpus(10**12))
    assert main(["params", "configs/gpt_char.toml", "--set", f"data.num_chars={have + 1}"]) == 2
    one_line(capsys, f"data.num_chars = {have + 1:,}, but the standard library's *.py files hold {have:,} characters")


@pytest.mark.parametrize("argv,words", [
    (["train"], "train: the following arguments are required: config (see `jaxdl train --help`)"),
    (["train", DIGITS, DIGITS], "train: unrecognized arguments: "),
    (["train", DIGITS, "--sett", "x"], "train: unrecognized arguments: --sett x"),
    (["compare", DIGITS, "--set"], "compare: argument --set: expected one argument"),
    (["params"], "params: the following arguments are required: config"),
    (["sample", "--max-new-tokens", "x", "a"], "sample: argument --max-new-tokens: invalid int value: 'x'"),
    (["nope"], "unknown command 'nope'; choose from compare, params, parity, sample, train"),
])
def test_command_line_mistakes_are_one_line(argv, words, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    one_line(capsys, words)


def test_repeated_compare_seeds_are_refused(tmp_path, capsys):
    # the same seed twice trains the same copy twice: a "± 0" spread that means nothing
    assert main(["compare", COMPARE, "--out", str(tmp_path / "c"), "--set", "compare.seeds=[0, 0]"]) == 2
    one_line(capsys, "compare.seeds = (0, 0) is not allowed: expected a non-empty list of distinct seeds")


@pytest.mark.parametrize("args,words", [
    ([], "--prompt 'def ' (the default): characters not in the vocabulary: [' ']; the checkpoint's vocabulary "
         "is 6 characters"),
    (["--prompt", ""], "--prompt '': expected at least one character"),
])
def test_sample_prompt_outside_the_vocabulary(gpt_checkpoint, args, words, capsys):
    capsys.readouterr()
    assert main(["sample", gpt_checkpoint, *args]) == 2
    one_line(capsys, words)


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")  # the dropped first delivery
def test_a_ctrl_c_python_drops_is_delivered_again():
    # Python drops an exception raised inside a gc callback ("Exception ignored in ..."; JAX registers one): a
    # Ctrl-C that lands there must still stop the command (CI once saw `jaxdl train` run on after its SIGINT)
    from jaxdl.cli._errors import ctrl_c_reaches_the_command  # noqa: PLC0415

    hit = []

    def callback(phase, info):
        if phase == "start" and not hit:
            hit.append(True)
            os.kill(os.getpid(), signal.SIGINT)
            sum(range(10_000))  # the handler runs here, and its KeyboardInterrupt is dropped

    deadline = time.monotonic() + 10
    with pytest.raises(KeyboardInterrupt):
        with ctrl_c_reaches_the_command():
            gc.callbacks.append(callback)
            try:
                gc.collect()
                while time.monotonic() < deadline:
                    time.sleep(0.01)
            finally:
                gc.callbacks.remove(callback)
    assert hit and time.monotonic() < deadline
