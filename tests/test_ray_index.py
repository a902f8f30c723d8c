"""Indexing on a Ray cluster (indexer/distributed.py), on a real local cluster: a head and two worker nodes, the
tiny models (their folders on local disk stand for shared storage). Ray is optional: without it these skip."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from glimpse.indexer.distributed import RAY_ENV, PhotoWorker, RayOptions, index_folder_ray, write_manifest
from glimpse.indexer.pipeline import Progress, document_text, index_folder
from glimpse.indexer.plan import WorkItem
from glimpse.indexer.scan import FileEntry
from glimpse.indexer.store import IndexStore
from glimpse.indexer.types import Label
from PIL import Image

from tests.conftest import DATA, REPO, DemoEmbedder
from tests.images import bad_library, photo_like
from tests.ray_models import POISON, TinyModels

# slow: a cluster and actor processes; a longer timeout than the suite's, since on a saturated 2-core machine
# one run took 505 s (every retry is bounded, so a hang still ends)
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]

ACTORS = 2


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A head (no CPU for actors) and two one-CPU worker nodes; this process is the driver."""
    ray = pytest.importorskip("ray")
    from ray.cluster_utils import Cluster

    saved = dict(os.environ)
    os.environ.update(RAY_ENV)
    # the workers import tests.ray_models, and this checkout's glimpse
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    nodes = {"include_dashboard": False, "object_store_memory": 80 * 1024 * 1024}
    c = Cluster(initialize_head=True, head_node_args={"num_cpus": 0, **nodes})
    for _ in range(2):
        c.add_node(num_cpus=1, object_store_memory=80 * 1024 * 1024)
    ray.init(address=c.address, include_dashboard=False, log_to_driver=False)
    try:
        yield c
    finally:
        ray.shutdown()
        c.shutdown()
        os.environ.clear()
        os.environ.update(saved)


@pytest.fixture
def recipe(tiny_blip, resnet_weights, tmp_path) -> TinyModels:
    return TinyModels(str(tiny_blip), str(resnet_weights), load_log=str(tmp_path / "loads.txt"))


def options(cluster, **kw) -> RayOptions:
    return RayOptions(address=cluster.address, actors=ACTORS, cpus_per_actor=1, retries=1, **kw)


def run_ray(lib, index, tiny_models, recipe, cluster, batch_size=4, **kw):
    with IndexStore.open_or_create(index, tiny_models.ids(), tiny_models.embedder.dim) as store:
        return index_folder_ray(lib, store, tiny_models, recipe, options(cluster), batch_size=batch_size, **kw)


def run_local(lib, index, tiny_models, batch_size=4):
    with IndexStore.open_or_create(index, tiny_models.ids(), tiny_models.embedder.dim) as store:
        return index_folder(lib, store, tiny_models, batch_size=batch_size)


def catalog(index: Path) -> tuple[dict, int, int]:
    """{path: (status, caption, labels, error, width, height)} and the text and image vector counts."""
    with IndexStore.open(index) as store:
        rows = {
            r.path: (r.status, r.caption, [(lb.name, round(lb.score, 4)) for lb in r.labels], r.error, r.width,
                     r.height)
            for r in store.catalog.records(status=None)
        }  # fmt: skip
        stats = store.stats()
        return rows, stats["vectors"], stats["image_vectors"]


def loads(recipe: TinyModels) -> list[str]:
    path = Path(recipe.load_log)
    return path.read_text().split() if path.exists() else []


@pytest.fixture
def photos(tmp_path) -> Path:
    """data/photos, every kind of awkward file, and enough photos for several batches."""
    lib = tmp_path / "lib"
    shutil.copytree(DATA, lib)
    bad_library(lib / "awkward")
    for i in range(6):
        photo_like((120, 90), seed=100 + i).save(lib / f"extra-{i}.jpg")
    return lib


def test_same_rows_as_the_local_pipeline_with_bad_moved_and_deleted_files(
    cluster, photos, tmp_path, tiny_models, recipe
):
    first = run_ray(photos, tmp_path / "ray", tiny_models, recipe, cluster)
    local = run_local(photos, tmp_path / "local", tiny_models)
    assert catalog(tmp_path / "ray") == catalog(tmp_path / "local")
    assert (first.added, len(first.failed)) == (local.added, len(local.failed))
    assert first.failed and first.added > 20
    assert {p for p, _ in first.failed} == {p for p, _ in local.failed}
    # models loaded once per actor: one load per worker process, at most one process per actor
    pids = loads(recipe)
    assert len(pids) == len(set(pids)) <= ACTORS < first.processed // 4

    (photos / "moved").mkdir()
    (photos / "pets" / "chelsea.jpg").rename(photos / "moved" / "cat.jpg")
    (photos / "space" / "rocket.jpg").unlink()
    photo_like((100, 80), seed=7).save(photos / "new.jpg")
    again = run_ray(photos, tmp_path / "ray", tiny_models, recipe, cluster)
    local_again = run_local(photos, tmp_path / "local", tiny_models)
    assert (again.added, again.moved, again.removed, again.processed) == (1, 1, 1, 1)
    assert (local_again.added, local_again.moved, local_again.removed) == (1, 1, 1)
    rows, vectors, image_vectors = catalog(tmp_path / "ray")
    assert (rows, vectors, image_vectors) == catalog(tmp_path / "local")
    assert vectors == image_vectors == sum(status == "ok" for status, *_ in rows.values())
    assert "moved/cat.jpg" in rows and "space/rocket.jpg" not in rows
    assert not (tmp_path / "ray" / "ray-work.parquet").exists()


def test_a_poison_photo_fails_alone_and_the_run_ends(cluster, tmp_path, tiny_models, recipe):
    lib = tmp_path / "lib"
    lib.mkdir()
    for i in range(5):
        photo_like((96, 64), seed=i).save(lib / f"good-{i}.jpg")
    Image.new("RGB", (96, 64), POISON).save(lib / "poison.png")
    summary = run_ray(lib, tmp_path / "idx", tiny_models, recipe, cluster, batch_size=3)
    assert summary.added == 5
    assert [p for p, _ in summary.failed] == ["poison.png"]
    assert "worker process died 3 times" in summary.failed[0][1]  # retries=1: twice, then once alone
    rows, vectors, _ = catalog(tmp_path / "idx")
    assert rows["poison.png"][0] == "failed" and vectors == 5
    assert run_ray(lib, tmp_path / "idx", tiny_models, recipe, cluster).processed == 0  # not retried until changed


CHILD = """
import os, signal, sys
from glimpse.indexer.distributed import RayOptions, index_folder_ray
from glimpse.indexer.pipeline import Progress
from glimpse.indexer.store import IndexStore
from tests.conftest import DemoEmbedder
from tests.ray_models import TinyModels

class Killed(Progress):
    def advance(self, n):
        print(n, flush=True)
        os.kill(os.getpid(), signal.SIGKILL)  # the driver dies right after its first commit

lib, index, blip, resnet, address = sys.argv[1:]
recipe = TinyModels(blip, resnet)
models = recipe()
with IndexStore.open_or_create(index, models.ids(), DemoEmbedder.dim) as store:
    options = RayOptions(address=address, actors=2, cpus_per_actor=1, retries=1)
    index_folder_ray(lib, store, models, recipe, options, batch_size=3, progress=Killed())
"""


def test_a_killed_driver_resumes_by_path(cluster, photos, tmp_path, tiny_models, recipe, tiny_blip, resnet_weights):
    index = tmp_path / "idx"
    args = [str(photos), str(index), str(tiny_blip), str(resnet_weights), cluster.address]
    child = subprocess.run([sys.executable, "-c", CHILD, *args], cwd=REPO, capture_output=True, text=True, timeout=240)
    assert child.returncode == -signal.SIGKILL, child.stderr[-3000:]
    committed = int(child.stdout.split()[0])
    with IndexStore.open(index) as store:
        done = len(store.catalog.records(status=None))
    assert done >= committed > 0  # the batch it reported, and no half batch (plus the planner's own failures)

    class Count(Progress):
        total = 0

        def start(self, total):
            Count.total = total

    resumed = run_ray(photos, index, tiny_models, recipe, cluster, progress=Count())
    rows, vectors, _ = catalog(index)
    assert resumed.processed == Count.total == len(rows) - done  # nothing redone, nothing left out
    run_local(photos, tmp_path / "local", tiny_models)
    assert (rows, vectors) == catalog(tmp_path / "local")[:2]


# -- the worker, without a cluster --------------------------------------------------------------------------
def manifest_batch(tmp_path, paths: list[Path], keep=None) -> dict[str, np.ndarray]:
    import pyarrow.parquet as pq

    work = [WorkItem(FileEntry(p, p.name, 0, 0), "", keep=keep) for p in paths]
    table = pq.read_table(write_manifest(work, tmp_path / "work.parquet"))
    return {name: np.array(table.column(name).to_pylist(), dtype=object) for name in table.column_names}


def test_worker_rows_errors_and_one_model_load(tmp_path, recipe):
    good = tmp_path / "good.jpg"
    photo_like((64, 48)).save(good)
    (tmp_path / "broken.jpg").write_bytes(b"not a jpeg")
    worker = PhotoWorker(recipe)
    batch = manifest_batch(tmp_path, [good, tmp_path / "broken.jpg", tmp_path / "elsewhere.jpg"])
    worker(batch)
    out = worker(batch)
    assert loads(recipe) == [str(os.getpid())]  # built and loaded once, not per batch
    assert not out["error"][0] and out["caption"][0] and out["width"][0] == 64
    assert "not an image" in out["error"][1] or "cannot decode" in out["error"][1]
    assert out["error"][2].startswith("not visible on worker ") and str(tmp_path / "elsewhere.jpg") in out["error"][2]
    assert len(np.frombuffer(out["embedding"][0], np.float32)) == DemoEmbedder.dim


def test_the_cli_and_a_plain_index_do_not_import_ray(tmp_path, tiny_blip, resnet_weights):
    code = f"""
import sys
import glimpse.ui.cli
from glimpse.indexer.pipeline import index_folder
from glimpse.indexer.store import IndexStore
from tests.ray_models import TinyModels
models = TinyModels({str(tiny_blip)!r}, {str(resnet_weights)!r})().load()
with IndexStore.open_or_create({str(tmp_path / "idx")!r}, models.ids(), models.embedder.dim) as store:
    assert index_folder({str(DATA)!r}, store, models).added == 6
assert "ray" not in sys.modules, "ray was imported"
"""
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True, timeout=300)


def test_cli_index_on_the_cluster(cluster, library, tmp_path, minilm_models_env, run_cli):
    """The production path: every worker builds its models from the CLI's settings (local folders here)."""
    code, out, err = run_cli("index", library, "--index", tmp_path / "idx", "--ray", cluster.address, "--json")
    assert code == 0, err
    assert json.loads(out)["added"] == 6
    code, out, _ = run_cli("stats", "--index", tmp_path / "idx", "--json")
    assert json.loads(out)["vectors"] == 6


def test_worker_embeds_a_persons_caption_and_labels(tmp_path, recipe):
    """A changed photo whose caption a person wrote: the models caption it, but their words are embedded."""
    photo_like((64, 48)).save(tmp_path / "edited.jpg")
    keep = SimpleNamespace(caption="my grandmother's garden", labels=[Label("daisy", 0.5)])
    out = PhotoWorker(recipe)(manifest_batch(tmp_path, [tmp_path / "edited.jpg"], keep=keep))
    expected = DemoEmbedder().embed_documents([document_text(keep.caption, keep.labels)])[0]
    assert np.allclose(np.frombuffer(out["embedding"][0], np.float32), expected)
    assert out["caption"][0] != keep.caption  # the models' own caption comes back too (kept beside the person's)
