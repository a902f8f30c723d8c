"""Typed errors raised by glimpse's library code. Only the CLI and UI turn them into messages."""

from __future__ import annotations


class GlimpseError(Exception):
    """Base class for every error glimpse raises on purpose."""


class ModelUnavailable(GlimpseError):
    """A model could not be loaded (no network, missing folder, bad weights)."""

    _LOCAL = {
        "caption": "a folder saved with save_pretrained (e.g. a clone of the model's hub repository)",
        "classifier": "a ResNet-18 state dict file, e.g. resnet18-f37072fd.pth from ~/.cache/torch/hub/checkpoints",
        "text": "a sentence-transformers model folder",
    }

    def __init__(self, kind: str, model: str, env_var: str, reason: str):
        self.kind, self.model, self.env_var, self.reason = kind, model, env_var, reason
        local = self._LOCAL.get(kind, "a local copy")
        flag = {"caption": "--caption-model", "classifier": "--classifier-weights", "text": "--text-model"}.get(kind)
        super().__init__(
            f"could not load the {kind} model {model!r}: {reason}\n"
            f"  Fetch it once on a machine with network access (it is then cached), or point glimpse at a local copy,\n"
            f"  {local}: set {env_var}=/path/to/it" + (f" or pass {flag} /path/to/it." if flag else ".")
        )


class ModelsUnavailable(GlimpseError):
    """Several models are missing: all of them named in one message, so one fetch fixes them all."""

    def __init__(self, missing: list[ModelUnavailable]):
        self.missing = missing
        super().__init__(f"{len(missing)} models are missing:\n" + "\n".join(f"- {e}" for e in missing))


class ClusterError(GlimpseError):
    """Indexing on a Ray cluster could not start or went wrong as a whole (Ray missing, unreachable, the job
    failed); what was written before stays, and the next run resumes."""


class PortInUse(GlimpseError):
    """The web app's port is taken by another program."""

    def __init__(self, port: int):
        self.port = port
        super().__init__(f"port {port} is in use: pass --port (another free port, e.g. --port {port + 1})")


class UnreadableImage(GlimpseError):
    """A file could not be decoded as an image; the message says why."""


class IndexProblem(GlimpseError):
    """Base for problems with an index folder."""


class IndexNotFound(IndexProblem):
    """No index exists at the given location."""


class IndexCorrupt(IndexProblem):
    """The catalog is damaged; glimpse refuses to guess rather than silently empty it."""


class SchemaTooNew(IndexProblem):
    """The index was written by a newer glimpse."""


class IndexLocked(IndexProblem):
    """Another indexer holds the index."""


class ModelMismatch(IndexProblem):
    """The index was built with a different embedding model than the one requested."""


class StorageError(IndexProblem):
    """The index could not be written (disk full, read-only folder). What was committed before stays readable."""


class LibraryOffline(GlimpseError):
    """A library folder that the index holds photos under is missing, empty or could not be listed (an unplugged
    drive, an unmounted share). Its photos are kept (marked offline) instead of being swept; `prune` removes them."""

    def __init__(self, root: str, reason: str, photos: int):
        self.root, self.reason, self.photos = root, reason, photos
        super().__init__(
            f"{reason}, but the index holds {photos} {'photo' if photos == 1 else 'photos'} under it. "
            f"Nothing was removed: they are kept and marked offline. Is the drive or share connected? "
            f"If they are gone for good, run `glimpse index {root} --prune` to remove them from the index."
        )


class NotInIndex(GlimpseError):
    """The photo asked about is not in the index (or has no image embedding yet)."""


class InvalidArgument(GlimpseError):
    """A value a caller gave can't mean anything here (a page number of 2.5, NaN)."""


class InvalidInput(GlimpseError):
    """A user-supplied file (JSONL import, eval queries) is malformed."""


class ToolMissing(GlimpseError):
    """An external program a feature needs (exiftool, for XMP export) is not installed."""
