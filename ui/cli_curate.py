"""`glimpse edit`, `glimpse export` and `glimpse rename`: curating captions and carrying them to other tools."""

from __future__ import annotations

from pathlib import Path

import click
from glimpse.ui.cli import _emit, _index_option, _json_option, _library, cli


# -- edit ---------------------------------------------------------------------------------------------------
def _record_dict(record) -> dict:
    from glimpse.indexer.names import readable

    return {
        "id": record.id, "path": readable(str(record.full_path or record.path)), "caption": record.caption,
        "labels": [lb.name for lb in record.labels], "human": record.human, "edited_at": record.edited_at,
        "machine_caption": record.machine_caption, "review": record.review,
    }  # fmt: skip


@cli.command()
@click.argument("photo")
@_index_option
@click.option("--caption", help="The new caption (becomes the photo's alt text too).")
@click.option("--add-label", "add_labels", multiple=True, metavar="LABEL", help="Add a label (repeatable).")
@click.option("--remove-label", "remove_labels", multiple=True, metavar="LABEL", help="Remove a label (repeatable).")
@click.option("--undo", is_flag=True, help="Bring back the caption and labels the last edit replaced.")
@_json_option
def edit(photo, index_dir, caption, add_labels, remove_labels, undo, as_json):
    """Correct the caption or labels of PHOTO (an id or an indexed file). Searchable at once, kept by re-index.

    The models' caption is kept beside yours; every edit can be undone with --undo.
    """
    if undo and (caption is not None or add_labels or remove_labels):
        raise click.UsageError("--undo takes no --caption, --add-label or --remove-label")
    if not undo and caption is None and not add_labels and not remove_labels:
        raise click.UsageError("say what to change: --caption, --add-label, --remove-label, or --undo")
    with _library(index_dir) as library:
        if undo:
            record = library.undo_edit(photo)
        else:
            record = library.edit(photo, caption, add_labels, remove_labels)
    data = _record_dict(record)
    who = "yours" if record.human else "the models'"
    text = f"{data['id']}  {data['path']}\n  caption ({who}): {record.caption}\n  labels: {', '.join(data['labels'])}"
    if record.human and record.machine_caption:
        text += f"\n  models' caption: {record.machine_caption}"
    _emit(data, as_json, text)


# -- export -------------------------------------------------------------------------------------------------
@cli.command()
@_index_option
@click.option("--xmp", is_flag=True, help="Write (merge) an XMP sidecar beside each photo.")
@click.option(
    "--sidecar-name", type=click.Choice(["jpg.xmp", "xmp"]), default="jpg.xmp",
    help="photo.jpg.xmp (digiKam, darktable, Immich) or photo.xmp (Adobe, Capture One).",
)  # fmt: skip
@click.option(
    "--only", type=click.Choice(["all", "approved", "edited"]), default="all",
    help="Which photos: all, those approved in review, or those whose caption a person edited.",
)  # fmt: skip
@click.option("--csv", "csv_file", type=click.Path(dir_okay=False, path_type=Path),
              help='A CSV in exiftool\'s layout: apply it with `exiftool -csv=FILE -sep ", " PHOTOS`.')  # fmt: skip
@click.option("--json-file", "--json", "json_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Every field of every photo, as JSON.")  # fmt: skip
@click.option("--embed", is_flag=True, help="Write into the image files themselves (through exiftool).")
@click.option("--overwrite-original", is_flag=True, help="With --embed: keep no photo.jpg_original copy.")
@click.option("--dry-run", is_flag=True, help="Say what would be written; write nothing.")
def export(index_dir, xmp, sidecar_name, only, csv_file, json_file, embed, overwrite_original, dry_run):
    """Carry captions and labels to other tools: XMP sidecars, a CSV for exiftool, JSON, or the images.

    Sidecars are merged, never clobbered: ratings, edits and your own keywords stay; a second run changes
    nothing. A read-only folder or a sidecar that is not valid XMP is reported and skipped.
    """
    if not (xmp or csv_file or json_file or embed):
        raise click.UsageError("say what to export: --xmp, --csv FILE, --json FILE or --embed")
    with _library(index_dir) as library:
        if csv_file:
            click.echo(f"{csv_file}: {library.export_file(csv_file, 'csv', only)} photos")
        if json_file:
            click.echo(f"{json_file}: {library.export_file(json_file, 'json', only)} photos")
        summaries = []
        if xmp:
            summaries.append(("sidecars", library.export_sidecars(only, sidecar_name, dry_run)))
        if embed:
            click.echo(
                "glimpse: --embed rewrites the metadata inside your image files (pixels untouched)"
                + ("; no copy of the originals is kept" if overwrite_original else "; originals kept as *_original"),
                err=True,
            )
            summaries.append(("images", library.embed_metadata(only, overwrite_original, dry_run)))
    failed = False
    for what, summary in summaries:
        verb = "would write" if dry_run else "wrote"
        click.echo(f"{what}: {verb} {len(summary.created)} new, {len(summary.updated)} updated, "
                   f"{summary.unchanged} unchanged, {len(summary.skipped)} skipped")  # fmt: skip
        for path in summary.created:
            click.echo(f"  new: {path}")
        for path in summary.updated:
            click.echo(f"  updated: {path}")
        for path, reason in summary.skipped:
            click.echo(f"glimpse: skipped {path}: {reason}", err=True)
        failed = failed or bool(summary.skipped)
    if failed:
        raise SystemExit(1)


# -- rename -------------------------------------------------------------------------------------------------
@cli.command()
@_index_option
@click.option(
    "--template", default="{date}_{caption}",
    help="The new name; fields: {date} {caption} {label} {name} {id}. Lower case, ASCII, at most ~60 characters.",
)  # fmt: skip
@click.option("--dry-run", "mode", flag_value="dry-run", default=True, help="Only print old -> new (the default).")
@click.option("--apply", "mode", flag_value="apply", help="Rename, keeping an undo journal in the index folder.")
@click.option("--undo", "mode", flag_value="undo", help="Put back every name the last --apply changed.")
@_json_option
def rename(index_dir, template, mode, as_json):
    """Descriptive file names from captions, e.g. 2023-07-14_dog-running-on-the-beach.jpg.

    Prints old -> new unless --apply. Files stay in their folder and are never overwritten; sidecars
    (photo.jpg.xmp, photo.xmp) go with their photo; the index keeps each photo's caption and edits.
    """
    with _library(index_dir) as library:
        if mode == "undo":
            done, problems = library.undo_rename()
        elif mode == "apply":
            done, problems = library.rename(template)
        else:
            done, problems = library.rename_plan(template)
    if as_json:
        _emit({"mode": mode, "renames": [r.as_dict() for r in done],
               "skipped": [{"path": p, "reason": r} for p, r in problems]}, True, "")  # fmt: skip
    else:
        for item in done:
            click.echo(f"{item.old} -> {item.new.name}")
        verb = {"dry-run": "would rename", "apply": "renamed", "undo": "restored"}[mode]
        click.echo(f"{verb} {len(done)} photos" + ("; run with --apply to rename" if mode == "dry-run" else ""))
    for path, reason in problems:
        if mode != "dry-run" or "nothing to name" not in reason:
            click.echo(f"glimpse: skipped {path}: {reason}", err=True)
    if mode != "dry-run" and any(reason.startswith("cannot") for _, reason in problems):
        raise SystemExit(1)
