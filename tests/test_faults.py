"""Faults: kill -9 mid-index, a full disk, concurrent indexers and searches, models missing offline."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from glimpse.indexer.errors import IndexLocked, StorageError
from glimpse.indexer.pipeline import index_folder
from glimpse.indexer.store import IndexStore
from glimpse.search import Searcher

from tests.faults import run_in_child, run_trials
from tests.images import photo_like

REPO = Path(__file__).resolve().parent.parent


def make_library(root: Path, n: int) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        photo_like((320 + 7 * i, 240), seed=i).save(root / f"img-{i:03}.jpg", quality=85)
    return root


@pytest.mark.slow
def test_kill_9_at_random_points(tmp_path, tiny_models):
    total = 12
    lib = make_library(tmp_path / "lib", total)
    results = run_trials(lib, tmp_path, tiny_models, total=total, trials=20, batch_size=2, seed=1)
    assert len(results) == 20
    # the random delays hit the run at different stages: before any commit, mid-run, and after it finished
    assert min(r.committed for r in results) < total and max(r.committed for r in results) > 0


@pytest.mark.slow
def test_search_while_indexing(tmp_path, tiny_models):
    lib = make_library(tmp_path / "lib", 40)
    index = tmp_path / "idx"
    IndexStore.open_or_create(index, tiny_models.ids(), tiny_models.embedder.dim).close()
    pid = run_in_child(lib, index, tiny_models, batch_size=2, progress_file=tmp_path / "progress")
    errors, seen, status, searches = [], set(), None, 0
    deadline = time.monotonic() + 180
    try:
        with IndexStore.open(index) as store:
            searcher = Searcher(store, tiny_models.embedder)
            while (status is None or searches < 1000) and time.monotonic() < deadline:  # until the indexer ends
                try:
                    seen.add(len(searcher.search(f"img {searches % 40:03}", k=5, min_score=None).hits))
                except Exception as e:  # noqa: BLE001 - any error at all is the failure being tested
                    errors.append(repr(e))
                searches += 1
                if status is None:
                    done, code = os.waitpid(pid, os.WNOHANG)
                    status = code if done == pid else None
    finally:
        if status is None:
            _, status = os.waitpid(pid, 0)
    assert errors == []
    assert os.waitstatus_to_exitcode(status) == 0
    assert len(seen) > 1  # the searches really ran while the index grew


def test_second_indexer_refused_while_first_runs(tmp_path, tiny_models):
    lib = make_library(tmp_path / "lib", 4)
    with IndexStore.open_or_create(tmp_path / "idx", tiny_models.ids(), tiny_models.embedder.dim) as store:
        with store.writer_lock():
            other = IndexStore.open_or_create(tmp_path / "idx", tiny_models.ids(), tiny_models.embedder.dim)
            with pytest.raises(IndexLocked, match="another glimpse indexer"):
                index_folder(lib, other, tiny_models)
            other.close()


def _mount_tmpfs(path: Path, size_kb: int) -> bool:
    path.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_kb}k", "tmpfs", str(path)], capture_output=True)
    return done.returncode == 0


def test_disk_full_gives_clear_error_and_keeps_index(tmp_path, tiny_models):
    lib = make_library(tmp_path / "lib", 6)
    built = tmp_path / "built"
    with IndexStore.open_or_create(built, tiny_models.ids(), tiny_models.embedder.dim) as store:
        index_folder(lib, store, tiny_models)
    size_kb = sum(p.stat().st_size for p in built.rglob("*") if p.is_file()) // 1024 + 200
    disk = tmp_path / "disk"
    if not _mount_tmpfs(disk, size_kb):
        pytest.skip("needs permission to mount a small tmpfs")
    try:
        index = disk / "idx"
        shutil.copytree(built, index)
        make_library(tmp_path / "lib2", 150)
        for p in (tmp_path / "lib2").iterdir():
            p.rename(lib / p.name)
        with IndexStore.open_or_create(index, tiny_models.ids(), tiny_models.embedder.dim) as store:
            with pytest.raises(StorageError, match="space"):
                index_folder(lib, store, tiny_models, batch_size=16)
        with IndexStore.open(index) as store:  # the previous index is still readable
            assert store.catalog.integrity_ok()
            assert store.catalog.count() >= 6
            assert len(store.vectors()) == store.catalog.count()
            assert Searcher(store, tiny_models.embedder).search("img", k=3, min_score=None).hits
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


@pytest.mark.slow
@pytest.mark.parametrize("missing", ["caption", "classifier"])
def test_missing_model_without_network_fails_fast(tmp_path, resnet_weights, missing):
    img = REPO / "data/photos/pets/chelsea.jpg"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"))}
    env.update(HF_HOME=str(tmp_path / "hf"), TORCH_HOME=str(tmp_path / "torch"))
    if missing == "caption":  # the hub id, with an empty cache and no network
        env.update(
            GLIMPSE_CAPTION_MODEL="Salesforce/blip-image-captioning-base",
            GLIMPSE_CLASSIFIER_WEIGHTS=str(resnet_weights),
        )
        name, var = "Salesforce/blip-image-captioning-base", "GLIMPSE_CAPTION_MODEL"
    else:  # torchvision's download of IMAGENET1K_V1
        env.update(GLIMPSE_CLASSIFIER_WEIGHTS="IMAGENET1K_V1")
        name, var = "IMAGENET1K_V1", "GLIMPSE_CLASSIFIER_WEIGHTS"
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "glimpse.ui.cli", "caption", str(img)], cwd=REPO, env=env, capture_output=True,
        text=True, timeout=120,
    )  # fmt: skip
    elapsed = time.perf_counter() - started
    assert done.returncode == 1
    assert f"could not load the {missing} model {name!r}" in done.stderr and var in done.stderr
    assert "Traceback" not in done.stderr
    assert elapsed < 60, f"took {elapsed:.0f} s to give up"


def test_models_load_once_per_process_under_threads(tiny_models):
    # many threads asking at once must not load twice or crash (the UI shares models between requests)
    errors = []

    def use():
        try:
            tiny_models.captioner.load()
            tiny_models.classifier.load()
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=use) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
