"""The `glimpse` command line. It only parses arguments, calls the library and prints: results to stdout
(with `--json` for scripts), progress and diagnostics to stderr."""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from pathlib import Path

import click
from glimpse.indexer import __version__
from glimpse.indexer.config import DEFAULT_BATCH_SIZE, DEFAULT_PRECISION, ENV, default_index_dir
from glimpse.indexer.errors import GlimpseError

log = logging.getLogger("glimpse")

PRIVACY_DEFAULTS = {
    "GRADIO_ANALYTICS_ENABLED": "False",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "TOKENIZERS_PARALLELISM": "false",
}


def _index_option(f):
    return click.option(
        "--index", "index_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
        help=f"Index folder [env {ENV['index']}; default {default_index_dir()}].",
    )(f)  # fmt: skip


def _json_option(f):
    return click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")(f)


def _model_options(f):
    options = [
        click.option("--caption-model", help=f"BLIP hub id or local folder [env {ENV['caption_model']}]."),
        click.option(
            "--classifier-weights", help=f"torchvision weights name or local .pth [env {ENV['classifier_weights']}]."
        ),
        click.option("--text-model", help=f"sentence-transformers hub id or local folder [env {ENV['text_model']}]."),
        click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), help=f"[env {ENV['device']}; auto]"),
        click.option(
            "--precision", type=click.Choice(["auto", "fp32", "bf16", "int8"]),
            help=f"auto = bf16 where the hardware is fast at it; int8 = BLIP's linear layers in int8 (CPU) "
            f"[env {ENV['precision']}; {DEFAULT_PRECISION}].",
        ),
    ]  # fmt: skip
    for option in reversed(options):
        f = option(f)
    return f


def _library(index_dir: Path | None, **model_flags):
    """The application layer over the index (see library.py), with models from flags, environment, defaults."""
    from glimpse.ui.library import Library, settings_for

    index_dir = index_dir or default_index_dir()
    return Library(index_dir, settings=settings_for(index_dir, **model_flags))


def _emit(data, as_json: bool, text: str) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False) if as_json else text)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "show_default": True})
@click.version_option(__version__, prog_name="glimpse")
@click.option("-v", "--verbose", count=True, help="More diagnostics on stderr (-vv for debug).")
def cli(verbose: int) -> None:
    """glimpse: semantic search for your photo library.

    \b
    glimpse index ~/Pictures          caption, label and embed every photo
    glimpse search "dog on a beach"   find them by meaning
    glimpse serve                     the web app
    """
    level = [logging.WARNING, logging.INFO, logging.DEBUG][min(verbose, 2)]
    logging.basicConfig(level=level, format="glimpse: %(message)s", stream=sys.stderr, force=True)
    for noisy in ("httpx", "urllib3", "sentence_transformers", "transformers", "filelock", "faiss"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))


# -- index --------------------------------------------------------------------------------------------------
@cli.command()
@click.argument("photos", type=click.Path(file_okay=False, path_type=Path))
@_index_option
@_model_options
@click.option("--batch-size", type=click.IntRange(1, 256), default=DEFAULT_BATCH_SIZE, help="Images per model batch.")
@click.option("--workers", type=click.IntRange(1, 32), default=2, help="Decoding threads.")
@click.option(
    "--prune", is_flag=True,
    help="Remove photos that can't be seen (PHOTOS missing or empty, a folder unreadable) instead of keeping them "
    "marked offline.",
)  # fmt: skip
@click.option(
    "--verify", is_flag=True, help="Re-hash every file and re-process those whose bytes changed (slow: reads all)."
)
@click.option(
    "--index-kind", type=click.Choice(["auto", "flat", "ivf", "ivfpq"]), default=None,
    help="Vector index type, kept for later runs: auto = by size (exact below 50k, IVF below 2M, compressed IVF-PQ "
    "with exact re-ranking from 2M) [default: the index's choice, auto].",
)  # fmt: skip
@click.option(
    "--ray", "ray_address", is_flag=False, flag_value="local", default=None, metavar="[ADDRESS]",
    help="Run the models on a Ray cluster: its ADDRESS, `auto` (RAY_ADDRESS, or the cluster `ray start` began "
    "here), or no value for a Ray on this machine. Photos must be at the same path on every worker; needs "
    '`pip install "glimpse[ray]"` (docs/scaling.md).',
)  # fmt: skip
@_json_option
def index(photos, index_dir, batch_size, workers, prune, verify, index_kind, ray_address, as_json, **model_flags):
    """Index (or re-index) the photos under PHOTOS. Only new and changed files are processed.

    Photos under a folder that can't be read are kept, marked offline; when PHOTOS itself is missing or empty
    (an unplugged drive, an unmounted share) but the index holds photos there, nothing is removed and the run
    fails, unless --prune. A file whose bytes changed under the same size and mtime is only noticed with --verify.
    """
    with _library(index_dir, **model_flags) as library:
        library.batch_size, library.workers = batch_size, workers
        try:
            summary = library.index(
                photos, progress=TqdmProgress(), prune=prune, verify=verify, index_kind=index_kind, ray=ray_address
            )
        except NotADirectoryError as e:
            raise click.BadParameter(str(e), param_hint="PHOTOS") from None
    lines = [
        f"added {summary.added}, updated {summary.updated}, moved {summary.moved}, removed {summary.removed}, "
        f"unchanged {summary.unchanged}, failed {len(summary.failed)}, offline {summary.offline} "
        f"({summary.seconds:.1f} s, {summary.rate:.2f} images/s)"
    ]
    if verify:
        lines.append(f"  verified: {summary.verified} files hashed again")
    lines += [f"  failed: {path}: {reason}" for path, reason in summary.failed]
    lines += [f"  {n} offline: {reason}" for reason, n in summary.offline_folders]
    _emit(summary.as_dict(), as_json, "\n".join(lines))


class TqdmProgress:
    """A tqdm bar on stderr per phase: hashing new files (files, MB/s), then the work (images/s, or another
    `unit`)."""

    def __init__(self, unit: str = "img", desc: str = "indexing"):
        self.unit, self.desc = unit, desc

    def hashing(self, files: int, nbytes: int) -> None:
        from tqdm import tqdm

        if files:
            self.hash_bar = tqdm(
                total=nbytes, unit="B", unit_scale=True, unit_divisor=1000, desc="hashing", file=sys.stderr,
                disable=None, postfix={"files": f"0/{files}"},
            )  # fmt: skip
            self.files, self.done = files, 0

    def hashed(self, nbytes: int) -> None:
        if bar := getattr(self, "hash_bar", None):
            self.done += 1
            bar.set_postfix(files=f"{self.done}/{self.files}", refresh=False)
            bar.update(nbytes)

    def start(self, total: int) -> None:
        from tqdm import tqdm

        self._end_hashing()
        self.bar = tqdm(total=total, unit=self.unit, desc=self.desc, file=sys.stderr, disable=None, smoothing=0.1)

    def advance(self, n: int) -> None:
        self.bar.update(n)

    def _end_hashing(self) -> None:
        if bar := getattr(self, "hash_bar", None):
            bar.close()
            self.hash_bar = None

    def close(self) -> None:
        self._end_hashing()
        if hasattr(self, "bar"):
            self.bar.close()


# -- search -------------------------------------------------------------------------------------------------
class _QueryCommand(click.Command):
    """A command whose one argument is a free-text query that may start with `-` ("-dog coffee", "-dog"): an
    argument that is not one of the command's options is the query, wherever it stands, not an unknown option."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        options = {name: opt for opt in self.get_params(ctx) for name in getattr(opt, "opts", []) if name[0] == "-"}
        kept, queries, takes_value = [], [], False
        for n, arg in enumerate(args):
            if takes_value or not arg.startswith("-") or arg == "-":
                kept.append(arg)
                takes_value = False
            elif arg == "--":
                kept += args[n:]
                break
            elif self._is_option(arg, options):
                kept.append(arg)
                opt = options.get(arg)  # None for `--top=5`, `-k5`: the value is in the same argument
                takes_value = opt is not None and not opt.is_flag and not opt.count
            else:
                queries.append(arg)
        return super().parse_args(ctx, kept + (["--", *queries] if queries else []))

    @staticmethod
    def _is_option(arg: str, options: dict) -> bool:
        """`--top=5`, `-k`, `-k5`: one of the options; `-dog`, `-dog coffee`, `--kids`: a query."""
        if " " in arg:
            return False
        if arg.split("=", 1)[0] in options:
            return True
        return not arg.startswith("--") and arg[:2] in options and arg[2:].isdigit()


@cli.command(cls=_QueryCommand)
@click.argument("query")
@_index_option
@click.option("-k", "--top", "k", type=click.IntRange(1, 1000), default=10, help="How many results.")
@click.option("--label", help="Only photos with this label among their top 5, or of this kind (dog: any breed).")
@click.option("--folder", help="Only photos under this folder (or imported ids starting with it).")
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), help="Only photos taken on or after this date.")
@click.option("--until", type=click.DateTime(["%Y-%m-%d"]), help="Only photos taken on or before this date.")
@click.option("--text-model", help="Text model for the query [default: the one the index was built with].")
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default=None)
@_json_option
def search(query, index_dir, k, label, folder, since, until, text_model, device, as_json):
    """Find photos matching QUERY, best first, with their scores.

    Put -WORD in the query to leave out photos whose caption, labels or file name contain WORD. Dates are
    EXIF capture dates, or the file's modification date for photos without one.
    """
    from glimpse.search import Filters

    if since and until and since > until:
        raise click.BadParameter("--since is after --until", param_hint="--since")
    if folder and Path(folder).expanduser().is_dir():
        folder = str(Path(folder).expanduser().resolve())
    filters = Filters(label=label, folder=folder, since=since and since.date(), until=until and until.date())
    with _library(index_dir, text_model=text_model, device=device) as library:
        results = library.search(query, k=k, filters=filters)
    if as_json:
        _emit(results.as_dict(), True, "")
        return
    if results.no_good_match:
        closest = " Nothing matches it well; the closest photos:" if results.hits else ""
        click.echo(f"No good match for {query!r}.{closest}")
    for rank, hit in enumerate(results.hits, 1):
        labels = ", ".join(name for name, _ in hit.labels[:3])
        evidence = "; ".join(f"{where}: {', '.join(words)}" for where, words in hit.matched.items() if where != "kind")
        evidence = "; ".join([evidence, *hit.kinds] if evidence else hit.kinds)
        why = f"  [matched {evidence}]" if evidence else ""
        when = f"  {hit.date[:10]} ({'EXIF' if hit.date_source == 'exif' else 'file date'})" if hit.date else ""
        offline = "  [offline]" if hit.offline else ""
        click.echo(f"{rank:>3}. {hit.score:.3f}  {hit.path}{when}{offline}")
        click.echo(f"       {hit.caption}" + (f"  ({labels})" if labels else "") + why)


# -- caption ------------------------------------------------------------------------------------------------
@cli.command()
@click.argument("images", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_model_options
@_json_option
def caption(images, as_json, **model_flags):
    """Caption IMAGES and give their top-3 labels. No index needed."""
    from glimpse.indexer.errors import UnreadableImage
    from glimpse.indexer.names import readable

    out, failures = [], 0
    with _library(None, **model_flags) as library:
        decoded = []
        for path in images:  # every file checked before any model loads: a text file costs nothing
            try:
                decoded.append((path, library.decode(path)))
            except UnreadableImage as e:
                decoded.append((path, e))
        if any(not isinstance(image, UnreadableImage) for _, image in decoded):
            library.models.check(("captioner", "classifier"))  # all missing models named at once
        for path, image in decoded:
            shown = readable(str(path))  # a file name that is not UTF-8, with U+FFFD
            if isinstance(image, UnreadableImage):
                failures += 1
                out.append({"path": shown, "error": readable(str(image))})
                continue
            text, labels = library.describe(image)
            out.append(
                {"path": shown, "caption": text, "labels": [{"name": lb.name, "score": lb.score} for lb in labels]}
            )
    if as_json:
        _emit(out, True, "")
    else:
        for item in out:
            if "error" in item:
                click.echo(f"{item['path']}: cannot read: {item['error']}", err=True)
                continue
            labels = ", ".join(f"{lb['name']} {lb['score']:.0%}" for lb in item["labels"])
            click.echo(f"{item['path']}: {item['caption']}\n    {labels}")
    if failures:
        raise SystemExit(1)


# -- import -------------------------------------------------------------------------------------------------
@cli.command("import")
@click.argument("jsonl", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_index_option
@click.option("--text-model", help=f"sentence-transformers hub id or local folder [env {ENV['text_model']}].")
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default=None)
@_json_option
def import_(jsonl, index_dir, text_model, device, as_json):
    """Index captions you already have: one {"id", "caption", "labels"} object per line of JSONL."""
    with _library(index_dir, text_model=text_model, device=device) as library:
        summary = library.import_jsonl(jsonl)
    text = f"imported {summary.added} new, {summary.updated} updated, {summary.unchanged} unchanged"
    if summary.skipped:
        text += f", skipped {len(summary.skipped)}:\n" + "\n".join(f"  line {n}: {r}" for n, r in summary.skipped)
    _emit(summary.as_dict(), as_json, text)


# -- stats --------------------------------------------------------------------------------------------------
@cli.command()
@_index_option
@_json_option
def stats(index_dir, as_json):
    """Counts, models, size on disk, the files that could not be indexed and the photos offline."""
    with _library(index_dir) as library:
        data = library.stats()
    if as_json:
        _emit(data, True, "")
        return
    lines = [
        f"index:    {data['index']}",
        f"indexed:  {data['indexed']} ({data['vectors']} vectors)",
        f"failed:   {data['failed']}",
        f"offline:  {data['offline']}",
        f"size:     {data['size_bytes'] / 1e6:.1f} MB",
        f"roots:    {', '.join(data['roots']) or '-'}",
        "models:   " + ", ".join(f"{k}={v}" for k, v in data["models"].items()),
        "review:   {reviewed} reviewed ({approved} approved, {edited} edited, {skipped} skipped), "
        "{unreviewed} not yet; {human} captions written by a person".format(**data["review"]),
    ]
    lines += [f"  failed: {f['path']}: {f['reason']}" for f in data["failures"]]
    lines += [f"  offline: {f['path']}: {f['reason']}" for f in data["offline_photos"]]
    click.echo("\n".join(lines))


# -- serve --------------------------------------------------------------------------------------------------
class _Auth(click.ParamType):
    name = "USER:PASSWORD"

    def convert(self, value, param, ctx):
        from glimpse.ui.server import parse_auth

        try:
            return parse_auth(value)
        except ValueError as e:
            self.fail(str(e), param, ctx)


@cli.command()
@_index_option
@click.option("--host", default="127.0.0.1", help="Address to listen on; 0.0.0.0 exposes the app to your network.")
@click.option("--port", type=click.IntRange(1, 65535), default=7860, help="Port to listen on.")
@click.option("--share", is_flag=True, help="Also publish a public *.gradio.live link (see the README first).")
@click.option(
    "--auth", type=_Auth(), envvar=ENV["auth"], show_envvar=True,
    help="Require this login for the pages and the API.",
)  # fmt: skip
@click.option(
    "--lang", type=click.Choice(["auto", "en", "es"]), default="auto", envvar=ENV["lang"], show_envvar=True,
    show_default=True,
    help="The web app's language: auto follows each browser's Accept-Language; en or es for every visitor. A "
    "visitor's own choice in the app's language selector wins. The CLI stays English.",
)  # fmt: skip
@_model_options
def serve(index_dir, host, port, share, auth, lang, **model_flags):
    """The web app: search, describe a photo, browse the library, index folders."""
    from glimpse.indexer.errors import PortInUse
    from glimpse.ui.app import build_app
    from glimpse.ui.server import launch, port_in_use

    if port_in_use(host, port):  # before building the app: say so at once
        raise PortInUse(port)
    library = _library(index_dir, **model_flags)
    index_dir = library.index_dir
    demo = build_app(library, language=lang)
    _, local_url, share_url = launch(
        demo, library, host=host, port=port, share=share, auth=auth, prevent_thread_lock=True
    )
    click.echo(f"glimpse: serving {index_dir} at {local_url}" + (f" and {share_url}" if share_url else ""), err=True)
    click.echo("glimpse: press Ctrl-C to stop", err=True)
    try:
        while demo.is_running:
            time.sleep(0.5)
    except KeyboardInterrupt:
        click.echo("\nglimpse: stopped", err=True)
    finally:
        demo.close()


from glimpse.ui import cli_curate, cli_tools  # noqa: E402, F401 - their commands join the group


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status (0 ok, 1 error, 2 usage, 130 interrupted)."""
    for key, value in PRIVACY_DEFAULTS.items():
        os.environ.setdefault(key, value)
    try:
        result = cli.main(args=argv, prog_name="glimpse", standalone_mode=False)
    except click.exceptions.Exit as e:
        return e.exit_code
    except click.ClickException as e:
        e.show()
        return e.exit_code
    except (click.exceptions.Abort, KeyboardInterrupt):  # click turns Ctrl-C into Abort
        click.echo("\nglimpse: interrupted; committed batches are kept, run the same command to resume.", err=True)
        return 130
    except GlimpseError as e:
        click.echo(f"glimpse: error: {e}", err=True)
        return 1
    except SystemExit as e:
        return e.code if isinstance(e.code, int) else 1
    return result if isinstance(result, int) else 0


if __name__ == "__main__":  # `python -m glimpse.ui.cli`: the commands registered on the imported module's group
    from glimpse.ui.cli import main as registered

    sys.exit(registered())
