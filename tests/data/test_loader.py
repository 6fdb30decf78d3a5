"""jaxdl.data.DataLoader: batch counts, sizes and values as torch's DataLoader; key-driven shuffles; replicas;
memmaps."""
import jax
import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader as TorchLoader
from torch.utils.data import TensorDataset

from jaxdl.data import DataLoader, check_batches, epoch_permutation, num_batches


def _data(n):
    x = np.arange(n * 6, dtype=np.float32).reshape(n, 2, 3)
    return x, np.arange(n, dtype=np.int64)


def _labels(loader, epoch=0):
    return np.concatenate([yb for _, yb in loader.batches(epoch)])


@pytest.mark.parametrize("drop_last", [False, True])
@pytest.mark.parametrize("n,batch_size", [(0, 3), (1, 1), (7, 3), (10, 5), (10, 4), (5, 8), (12, 1)])
def test_unshuffled_batches_equal_torch(n, batch_size, drop_last):
    x, y = _data(n)
    ours = DataLoader((x, y), batch_size, drop_last=drop_last)
    theirs = TorchLoader(TensorDataset(torch.from_numpy(x), torch.from_numpy(y)), batch_size, drop_last=drop_last)
    assert len(ours) == len(theirs)
    got, want = list(ours), list(theirs)
    assert len(got) == len(want)
    for (xb, yb), (tx, ty) in zip(got, want):
        np.testing.assert_array_equal(xb, tx.numpy(), strict=True)
        np.testing.assert_array_equal(yb, ty.numpy(), strict=True)


@pytest.mark.parametrize("drop_last", [False, True])
@pytest.mark.parametrize("n,batch_size", [(1, 1), (7, 3), (10, 5), (5, 8), (12, 13), (64, 100000)])
def test_num_batches_is_torchs_batch_sampler_and_no_batch_is_refused(n, batch_size, drop_last):
    # torch/utils/data/sampler.py BatchSampler.__len__: one smaller batch for batch_size > n unless drop_last
    sampler = torch.utils.data.BatchSampler(range(n), batch_size, drop_last)
    assert num_batches(n, batch_size, drop_last) == len(sampler) == len(list(sampler))
    if len(sampler):
        check_batches("train_data", n, batch_size, drop_last)
    else:
        with pytest.raises(ValueError) as err:
            check_batches("train_data", n, batch_size, drop_last)
        assert str(err.value).startswith(f"train_data yields no batch: batch_size={batch_size} is larger than its "
                                         f"{n} examples") and "\n" not in str(err.value)


def test_epoch_permutation_is_the_documented_formula_and_the_loaders_order():
    key = jax.random.key(3)
    want = np.asarray(jax.random.permutation(jax.random.fold_in(key, 2), 11))
    np.testing.assert_array_equal(np.asarray(epoch_permutation(key, 2, 11)), want)
    np.testing.assert_array_equal(jax.jit(epoch_permutation, static_argnums=2)(key, 2, 11), want)  # traceable
    x, y = _data(11)
    np.testing.assert_array_equal(_labels(DataLoader((x, y), 4, shuffle=True, key=key), 2), want)


@pytest.mark.parametrize("drop_last", [False, True])
def test_shuffled_sizes_equal_torch_and_each_row_once(drop_last):
    x, y = _data(11)
    loader = DataLoader((x, y), 4, shuffle=True, key=jax.random.key(3), drop_last=drop_last)
    torch_sizes = [len(b[0]) for b in TorchLoader(TensorDataset(torch.from_numpy(y)), 4, shuffle=True,
                                               drop_last=drop_last)]
    for epoch in range(3):
        batches = list(loader.batches(epoch))
        assert [len(yb) for _, yb in batches] == torch_sizes
        labels = np.concatenate([yb for _, yb in batches])
        assert len(set(labels.tolist())) == len(labels) == sum(torch_sizes)
        for xb, yb in batches:  # x and y rows stay paired
            np.testing.assert_array_equal(xb, x[yb], strict=True)


def test_shuffle_is_the_keyed_permutation_reproducible_and_new_each_epoch():
    x, y = _data(50)
    key = jax.random.key(7)
    loader = DataLoader((x, y), 8, shuffle=True, key=key)
    for epoch in (0, 1, 5):
        want = np.asarray(jax.random.permutation(jax.random.fold_in(key, epoch), 50))
        np.testing.assert_array_equal(_labels(loader, epoch), want)
        np.testing.assert_array_equal(_labels(DataLoader((x, y), 8, shuffle=True, key=key), epoch), want)
    assert not np.array_equal(_labels(loader, 0), _labels(loader, 1))
    assert not np.array_equal(_labels(loader, 0), _labels(DataLoader((x, y), 8, shuffle=True,
                                                                     key=jax.random.key(8)), 0))
    np.testing.assert_array_equal(_labels(loader, 0), np.concatenate([yb for _, yb in loader]))  # iter = epoch 0
    raw = DataLoader((x, y), 8, shuffle=True, key=jax.random.PRNGKey(7))  # a raw uint32 key works too
    np.testing.assert_array_equal(_labels(raw, 2), _labels(loader, 2))


@pytest.mark.parametrize("shuffle", [False, True])
@pytest.mark.parametrize("n,batch_size,replicas,drop_last", [(20, 4, 2, False), (22, 8, 4, True), (27, 6, 3, False),
                                                             (10, 4, 4, True)])
def test_replicas_concatenate_to_the_one_process_batch(shuffle, n, batch_size, replicas, drop_last):
    x, y = _data(n)
    key = jax.random.key(1) if shuffle else None
    one = DataLoader((x, y), batch_size, shuffle, key=key, drop_last=drop_last)
    ranks = [DataLoader((x, y), batch_size, shuffle, key=key, drop_last=drop_last, num_replicas=replicas, rank=r)
             for r in range(replicas)]
    assert all(len(r) == len(one) for r in ranks)
    for epoch in (0, 1):
        for whole, *parts in zip(one.batches(epoch), *(r.batches(epoch) for r in ranks)):
            # equal local batches, as make_array_from_process_local_data needs
            assert len({len(p[1]) for p in parts}) == 1
            for i in range(2):
                np.testing.assert_array_equal(np.concatenate([p[i] for p in parts]), whole[i], strict=True)


class _Spy(np.ndarray):
    """An array that records the rows each indexing call asks for."""
    reads: list

    def __getitem__(self, index):
        self.reads.append(np.arange(len(self))[index])
        return super().__getitem__(index)


@pytest.mark.parametrize("shuffle", [False, True])
def test_each_rank_reads_only_its_rows(shuffle):
    x, y = _data(16)
    key = jax.random.key(0) if shuffle else None
    order = np.asarray(jax.random.permutation(jax.random.fold_in(key, 0), 16)) if shuffle else np.arange(16)
    for rank in range(2):
        spy = x.view(_Spy)
        spy.reads = []
        list(DataLoader((spy, y), 8, shuffle, key=key, num_replicas=2, rank=rank))
        want = [order[b * 8 + rank * 4: b * 8 + rank * 4 + 4] for b in range(2)]
        assert [r.tolist() for r in spy.reads] == [w.tolist() for w in want]


@pytest.mark.parametrize("shuffle", [False, True])
def test_npy_paths_and_memmaps_equal_in_memory(tmp_path, shuffle):
    x, y = _data(30)
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", y)
    key = jax.random.key(2) if shuffle else None
    mem = DataLoader((x, y), 7, shuffle, key=key)
    for dataset in ((str(tmp_path / "x.npy"), tmp_path / "y.npy"),
                    (np.load(tmp_path / "x.npy", mmap_mode="r"), np.load(tmp_path / "y.npy", mmap_mode="r"))):
        mapped = DataLoader(dataset, 7, shuffle, key=key)
        assert isinstance(mapped.dataset[0], np.memmap)
        for got, want in zip(mapped.batches(1), mem.batches(1), strict=True):
            for g, w in zip(got, want):
                assert type(g) is np.ndarray and g.flags.writeable  # a copy in memory, not a view of the file
                np.testing.assert_array_equal(g, w, strict=True)


def test_batches_are_copies():
    x, y = _data(4)
    xb, _ = next(iter(DataLoader((x, y), 2)))
    xb[:] = -1
    assert x.min() == 0


@pytest.mark.parametrize("call,message", [
    (lambda d: DataLoader(d[0], 2), "tuple of arrays"),
    (lambda d: DataLoader((), 2), "at least one array"),
    (lambda d: DataLoader((d[0], d[1][:5]), 2), "dataset[0] has 10 rows but dataset[1] has 5"),
    (lambda d: DataLoader((np.float32(1.0),), 2), "dataset[0] needs a leading example axis"),
    (lambda d: DataLoader(d, 0), "batch_size must be an int ≥ 1; got 0"),
    (lambda d: DataLoader(d, 2.0), "batch_size must be an int ≥ 1; got 2.0 (float)"),
    (lambda d: DataLoader(d, 2, shuffle=1), "shuffle should be a boolean value, but got shuffle=1"),
    (lambda d: DataLoader(d, 2, drop_last=None), "drop_last should be a boolean value, but got drop_last=None"),
    (lambda d: DataLoader(d, 2, shuffle=True), "shuffle=True needs key=jax.random.key(seed); got key=None"),
    (lambda d: DataLoader(d, 2, shuffle=True, key=0), "shuffle=True needs key=jax.random.key(seed); got key=0"),
    (lambda d: DataLoader(d, 2, key=jax.random.key(0)), "key is only used with shuffle=True"),
    (lambda d: DataLoader(d, 3, num_replicas=2, rank=0), "batch_size=3 (the global batch) must be divisible by "
                                                         "num_replicas=2"),
    (lambda d: DataLoader(d, 4, num_replicas=4, rank=0), "the last batch (10 % 4 = 2 examples) must be divisible "
                                                         "by num_replicas=4; pass drop_last=True"),
    (lambda d: DataLoader(d, 4, num_replicas=2, rank=2), "Invalid rank 2, rank should be in the interval [0, 1]"),
    (lambda d: DataLoader(d, 4, rank=1), "Invalid rank 1, rank should be in the interval [0, 0]"),
    (lambda d: DataLoader(d, 4, num_replicas=0), "num_replicas must be an int ≥ 1; got 0"),
    (lambda d: list(DataLoader(d, 4).batches(-1)), "epoch must be a non-negative int; got -1"),
])
def test_bad_arguments_raise_one_line(call, message):
    with pytest.raises((ValueError, TypeError)) as err:
        call(_data(10))
    assert message in str(err.value) and "\n" not in str(err.value)


def test_npz_and_missing_files_raise(tmp_path):
    np.savez(tmp_path / "a.npz", x=np.zeros(3))
    with pytest.raises(ValueError, match="is not a .npy file"):
        DataLoader((tmp_path / "a.npz",))
    with pytest.raises(FileNotFoundError):
        DataLoader((tmp_path / "missing.npy",))
