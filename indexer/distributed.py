"""Indexing on a Ray cluster: the same stages as the local pipeline, run by a pool of Ray Data actors.

The driver (this process) plans exactly as `index_folder` does, under the index's writer lock (new, changed,
moved, removed: see plan.py), and writes the work list as a Parquet manifest beside the index. Ray Data runs
`PhotoWorker` over it, one block per batch, on an actor pool (`num_gpus` per actor where the cluster has GPUs,
`num_cpus` otherwise): each actor builds and loads its models once, then decodes, captions, classifies and
embeds with pipeline.py's own stages (`prepare_one`, `infer_batch`, `kept_text`, `embed_batch`). Results stream
back to the driver, which writes each batch with `write_batch` in one transaction, as the local pipeline does:
an interrupted run resumes by path and loses at most the batch being written (plus the results still in flight).

Failures:
- a photo that can't be decoded, or that the models fail on, is an error row: recorded as failed, the run goes on;
- a photo a worker can't see is an error row too ("not visible on worker NODE: PATH"): photos must be readable
  at the same path on every worker (a shared filesystem);
- a worker process that dies (a "poison" image crashing a native library, the OOM killer) is restarted and its
  batch retried `retries` times; a batch that still fails is skipped, and its photos are tried once more one
  by one (up to `bisect_limit` photos, with no retry), so only the photo that kills its worker is recorded as
  failed, after `retries + 2` deaths. Ray's default, retrying a dead actor's work forever, is never used.

Ray is imported only here, and only when a run starts: `pip install "glimpse[ray]"`.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import warnings
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from .config import DEFAULT_BATCH_SIZE
from .decode import DecodedImage
from .errors import ClusterError
from .models import Models
from .pipeline import (
    Prepared,
    Progress,
    Summary,
    embed_batch,
    index_with,
    infer_batch,
    kept_text,
    prepare_one,
    tally,
    write_batch,
)
from .plan import WorkItem
from .scan import FileEntry
from .store import IndexStore
from .types import Label

log = logging.getLogger(__name__)

MANIFEST_NAME = "ray-work.parquet"  # the work list, in the index folder while a run lasts
INSTALL = 'pip install "glimpse[ray]"'

# Set before Ray starts (a local Ray's processes inherit them): no usage report, no metrics agent exporting.
RAY_ENV = {"RAY_USAGE_STATS_ENABLED": "0", "RAY_DATA_USAGE_DISABLED": "1", "RAY_enable_metrics_collection": "0"}


@dataclass(frozen=True)
class RayOptions:
    """Where and how to run. `address`: "local" (a Ray started on this machine for the run), "auto" (the cluster
    in RAY_ADDRESS, else the one `ray start` began on this machine), or a cluster address."""

    address: str = "local"
    actors: int | None = None  # default: one per GPU (gpus_per_actor each), else one per cpus_per_actor CPUs
    cpus_per_actor: float | None = None  # CPU actors; default 1 (fractions let more actors share a core)
    gpus_per_actor: float | None = None  # default 1 where the cluster has GPUs
    retries: int = 2  # restarts of a worker that died, and retries of its batch
    bisect_limit: int = 256  # photos of failed batches retried one by one; past that they are recorded failed


# -- on the workers -----------------------------------------------------------------------------------------
class PhotoWorker:
    """A Ray Data callable class: models built by `build_models()` and loaded once per actor; each call takes a
    manifest batch (columns path, rel, keep_caption, keep_labels) and returns one result row per photo (see
    `RESULT_COLUMNS`), an `error` instead of results for a photo that could not be used."""

    def __init__(self, build_models: Callable[[], Models], decode_threads: int = 2):
        self.models = build_models().load()
        self.node = socket.gethostname()
        self.pool = ThreadPoolExecutor(max_workers=max(1, decode_threads), thread_name_prefix="glimpse-decode")

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        items = [_work_item(*row) for row in zip(*(batch[c] for c in MANIFEST_COLUMNS), strict=True)]
        prepared = list(self.pool.map(self._prepare, items))
        captions, labels, features, vectors = self._infer(items, prepared)
        return _result_columns(items, prepared, captions, labels, features, vectors)

    def _prepare(self, item: WorkItem) -> Prepared | str:
        if not item.entry.path.exists():
            return f"not visible on worker {self.node}: {item.entry.path} (photos must be at the same path there)"
        return prepare_one(item, self.models)

    def _infer(self, items: list[WorkItem], prepared: list[Prepared | str]):
        """The pipeline's stages on the batch's good photos; when the models fail on the batch, photo by photo,
        so only the photos they fail on become error rows (in `prepared`)."""
        try:
            return self._stages(items, prepared)
        except Exception:  # noqa: BLE001 - find the photo it was
            log.warning("the models failed on a batch: trying its photos one by one", exc_info=True)
        for i, p in enumerate(prepared):
            if not isinstance(p, str):
                try:
                    self._stages([items[i]], [p])
                except Exception as e:  # noqa: BLE001 - this photo fails, the others go on
                    prepared[i] = f"the models failed on it: {type(e).__name__}: {e}"
        return self._stages(items, prepared)

    def _stages(self, items, prepared):
        good = [p for p in prepared if not isinstance(p, str)]
        if good:
            captions, labels, features = infer_batch(good, self.models)
        else:
            captions, labels, features = [], [], np.empty((0, 0), np.float32)
        vectors = embed_batch(*kept_text(items, prepared, captions, labels), self.models) if good else features
        return captions, labels, features, vectors


MANIFEST_COLUMNS = ("path", "rel", "keep_caption", "keep_labels")
RESULT_COLUMNS = ("rel", "error", "caption", "labels", "features", "embedding", "width", "height", "taken_at", "layout")


def _work_item(path, rel, keep_caption, keep_labels) -> WorkItem:
    """Enough of the driver's WorkItem for the stages: the file's path, and a person's caption and labels (which
    are embedded instead of the models' own)."""
    # Arrow's nulls may come back as None or NaN
    keep = SimpleNamespace(caption=keep_caption, labels=_labels(keep_labels)) if isinstance(keep_caption, str) else None
    entry = FileEntry(Path(os.fsdecode(bytes(path))), os.fsdecode(bytes(rel)), 0, 0)
    return WorkItem(entry, "", keep=keep)


def _result_columns(items, prepared, captions, labels, features, vectors) -> dict[str, np.ndarray]:
    """One row per item; vectors travel as float32 bytes, labels as JSON, so every block has the same schema; no
    nulls (an empty string, an empty byte string instead: Arrow's nulls come back as NaN)."""
    rows = []
    results = iter(zip(captions, labels, features, vectors, strict=True))
    for item, p in zip(items, prepared, strict=True):
        rel = os.fsencode(item.entry.rel)
        if isinstance(p, str):
            rows.append((rel, p, "", "", b"", b"", 0, 0, "", b""))
            continue
        caption, lbs, feature, vector = next(results)
        d = p.decoded
        layout = b"" if d.layout is None else np.asarray(d.layout, np.float32).tobytes()
        rows.append((
            rel, "", caption, _labels_json(lbs), np.asarray(feature, np.float32).tobytes(),
            np.asarray(vector, np.float32).tobytes(), d.width, d.height, d.taken_at or "", layout,
        ))  # fmt: skip
    columns = {}
    for name, values in zip(RESULT_COLUMNS, zip(*rows, strict=True) if rows else [()] * 10, strict=True):
        dtype = np.int64 if name in ("width", "height") else object
        columns[name] = np.array(list(values), dtype=dtype)
    return columns


def _labels_json(labels: Sequence[Label]) -> str:
    return json.dumps([[lb.name, lb.score] for lb in labels])


def _labels(text: str | None) -> list[Label]:
    return [Label(name, score) for name, score in json.loads(text)] if text else []


# -- on the driver ------------------------------------------------------------------------------------------
def index_folder_ray(
    root: str | Path,
    store: IndexStore,
    models: Models,
    build_models: Callable[[], Models],
    options: RayOptions | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: Progress | None = None,
    prune: bool = False,
    verify: bool = False,
) -> Summary:
    """`index_folder` with the models run by Ray actors (see the module's docstring). `models` is the driver's
    (only its text model is used, to re-embed old captions when the recipe changed); `build_models` is sent to
    every actor, which calls it once: a picklable callable (`functools.partial(Models.from_settings, settings)`)
    whose model paths or hub ids every worker can load."""
    options = options or RayOptions()
    progress = progress or Progress()

    def run(root_id: int, work: list[WorkItem], summary: Summary) -> None:
        writer = _Writer(store, root_id, work, summary, progress)
        manifest = store.folder / MANIFEST_NAME
        try:
            with connected(options.address) as ray:
                for batch in _results(ray, write_manifest(work, manifest), build_models, options, batch_size):
                    writer.write(batch)
                left = writer.left()
                if left and len(left) <= options.bisect_limit:
                    log.warning("%d photos were in batches whose worker died: trying them one by one", len(left))
                    one_by_one = replace(options, retries=0)  # this pass is the retry: a photo that kills again fails
                    for batch in _results(ray, write_manifest(left, manifest), build_models, one_by_one, 1):
                        writer.write(batch)
            reason = f"its worker process died {options.retries + 2} times while processing it (see the Ray logs)"
            if (left := writer.left()) and len(left) > options.bisect_limit:
                reason = f"its batch's worker process died {options.retries + 1} times (see the Ray logs)"
            writer.fail(left, reason)
        finally:
            manifest.unlink(missing_ok=True)

    return index_with(run, root, store, models.embedder, batch_size, progress, prune=prune, verify=verify)


def write_manifest(work: Sequence[WorkItem], path: Path) -> Path:
    """The work list as Parquet: the absolute path and the path in the library (bytes: names need not be UTF-8),
    and a person's caption and labels where they wrote them."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    keeps = [item.keep for item in work]
    table = pa.table({
        "path": pa.array([os.fsencode(item.entry.path) for item in work], pa.binary()),
        "rel": pa.array([os.fsencode(item.entry.rel) for item in work], pa.binary()),
        "keep_caption": pa.array([k.caption if k else None for k in keeps], pa.string()),
        "keep_labels": pa.array([_labels_json(k.labels) if k else None for k in keeps], pa.string()),
    })  # fmt: skip
    tmp = path.with_suffix(".tmp")
    pq.write_table(table, tmp)
    os.replace(tmp, path)
    return path


class _Writer:
    """Writes result batches into the catalog as they come, in the local pipeline's transactions and counts."""

    def __init__(self, store: IndexStore, root_id: int, work: list[WorkItem], summary: Summary, progress: Progress):
        self.store, self.root_id, self.summary, self.progress = store, root_id, summary, progress
        self.todo = {os.fsencode(item.entry.rel): item for item in work}

    def left(self) -> list[WorkItem]:
        return list(self.todo.values())

    def write(self, batch: dict[str, np.ndarray]) -> None:
        items, prepared, captions, labels, features, vectors = [], [], [], [], [], []
        for row in zip(*(batch[c] for c in RESULT_COLUMNS), strict=True):
            rel, error, caption, lbs, feature, vector, width, height, taken_at, layout = row
            item = self.todo.pop(bytes(rel), None)
            if item is None:
                continue  # already written (a retried block)
            items.append(item)
            if error:
                prepared.append(str(error))
                continue
            layout = np.frombuffer(layout, np.float32) if len(layout) else None
            decoded = DecodedImage(None, int(width), int(height), taken_at or None, layout)
            prepared.append(Prepared(decoded, None, None))
            captions.append(str(caption))
            labels.append(_labels(lbs))
            features.append(np.frombuffer(feature, np.float32))
            vectors.append(np.frombuffer(vector, np.float32))
        if items:
            self._commit(items, prepared, captions, labels, _stack(vectors), _stack(features))

    def fail(self, items: list[WorkItem], reason: str) -> None:
        for item in items:
            self.todo.pop(os.fsencode(item.entry.rel), None)
        for start in range(0, len(items), 256):
            share = items[start : start + 256]
            self._commit(share, [reason] * len(share), [], [], _stack([]), _stack([]))

    def _commit(self, items, prepared, captions, labels, vectors, features) -> None:
        failed = write_batch(self.store, self.root_id, items, prepared, captions, labels, vectors, features)
        tally(self.summary, items, prepared, failed)
        self.progress.advance(len(items))


def _stack(rows: list[np.ndarray]) -> np.ndarray:
    return np.stack(rows) if rows else np.empty((0, 0), np.float32)


def _results(ray, manifest: Path, build_models, options: RayOptions, batch_size: int) -> Iterator[dict]:
    """Run PhotoWorker over the manifest, one block per batch; yield each block's results as it completes.
    Blocks whose worker died more than `options.retries` times are skipped (their photos are then missing)."""
    import pyarrow.parquet as pq
    import ray.data

    table = pq.read_table(manifest)
    blocks = [table.slice(start, batch_size) for start in range(0, table.num_rows, batch_size)]
    context = ray.data.DataContext.get_current()
    saved = context.max_errored_blocks, context.enable_progress_bars
    context.max_errored_blocks, context.enable_progress_bars = len(blocks), False
    try:
        resources, actors = actor_resources(ray.cluster_resources(), options)
        with warnings.catch_warnings():
            # Ray 2.60 has no named parameter for an actor's restarts and deprecates passing them as remote
            # args (their removal is planned for 2.64, past the pinned version): the only way to bound them
            warnings.filterwarnings("ignore", "`ray_remote_args` is deprecated", category=DeprecationWarning)
            dataset = ray.data.from_arrow(blocks).map_batches(
                PhotoWorker, fn_constructor_args=(build_models,), batch_size=batch_size, batch_format="numpy",
                compute=ray.data.ActorPoolStrategy(size=max(1, min(actors, len(blocks)))),
                max_restarts=options.retries, max_task_retries=options.retries, **resources,
            )  # fmt: skip
        yield from dataset.iter_batches(batch_size=None, batch_format="numpy")
    except Exception as e:  # noqa: BLE001 - Ray's own errors: the run stops, what was written stays
        if isinstance(e, ray.exceptions.RayError | ray.data.exceptions.RayDataUserCodeException):
            raise ClusterError(f"the Ray job failed: {e}") from e
        raise
    finally:
        context.max_errored_blocks, context.enable_progress_bars = saved


def actor_resources(cluster: dict, options: RayOptions) -> tuple[dict, int]:
    """({"num_gpus": g} or {"num_cpus": c} per actor, how many actors) for a cluster's resources."""
    gpus = cluster.get("GPU", 0)
    if options.gpus_per_actor or (gpus and options.cpus_per_actor is None):
        per = options.gpus_per_actor or 1
        return {"num_gpus": per}, options.actors or max(1, int(gpus // per))
    per = options.cpus_per_actor or 1
    return {"num_cpus": per}, options.actors or max(1, int(cluster.get("CPU", 1) // per))


@contextlib.contextmanager
def connected(address: str = "local"):
    """Ray, connected to `address` (see RayOptions) for the block: a Ray this process already joined is used as
    it is; one joined here is left at the end. Raises ClusterError when Ray is missing or can't be reached."""
    for name, value in RAY_ENV.items():
        os.environ.setdefault(name, value)
    try:
        import ray
    except ImportError as e:
        raise ClusterError(f"indexing on a Ray cluster needs Ray: {INSTALL}") from e
    if ray.is_initialized():
        yield ray
        return
    logging.getLogger("ray").setLevel(logging.WARNING)
    kwargs = {"include_dashboard": False, "logging_level": logging.WARNING, "log_to_driver": True}
    if address == "local":
        # this machine only: every Ray process on the loopback address, no metrics export
        kwargs |= {"_node_ip_address": "127.0.0.1", "_system_config": {"enable_metrics_collection": False}}
    else:
        kwargs.pop("include_dashboard")  # a cluster's head decides (`ray start --head --include-dashboard=false`)
        address = (os.environ.get("RAY_ADDRESS") or "auto") if address == "auto" else address
    try:
        ray.init(address=address, **kwargs)
    except (ConnectionError, ValueError, RuntimeError) as e:
        raise ClusterError(f"could not start or join Ray at {address!r}: {e}") from e
    try:
        yield ray
    finally:
        ray.shutdown()
