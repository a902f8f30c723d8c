"""Search quality on the development eval set (data/eval, a copy of shared/eval) with the real MiniLM, through
`glimpse import` and `glimpse eval`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import EVAL

pytestmark = pytest.mark.slow  # the real MiniLM


@pytest.fixture(scope="module")
def eval_index(tmp_path_factory) -> Path:
    from glimpse.ui.cli import main

    index = tmp_path_factory.mktemp("eval") / "idx"
    assert main(["import", str(EVAL / "corpus.jsonl"), "--index", str(index)]) == 0
    return index


def english_queries(tmp_path: Path) -> Path:
    lines = [q for q in (EVAL / "queries.jsonl").read_text().splitlines() if json.loads(q).get("lang") != "es"]
    path = tmp_path / "en.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_english_queries_beat_dense_baseline(run_cli, eval_index, tmp_path):
    code, out, _ = run_cli("eval", english_queries(tmp_path), "--index", eval_index, "--json")
    assert code == 0
    result = json.loads(out)
    assert result["n"] == 37
    # dense-only (caption + labels) reaches 0.919 / 0.946 here; the hybrid must do at least as well
    assert result["recall@1"] >= 0.92 and result["recall@5"] >= 0.95
    assert result["mrr@10"] >= 0.93


def test_eval_reports_languages_separately(run_cli, eval_index):
    code, out, _ = run_cli("eval", EVAL / "queries.jsonl", "--index", eval_index, "--json")
    result = json.loads(out)
    assert code == 0 and result["n"] == 40 and set(result["by_lang"]) == {"en", "es"}
    assert result["by_lang"]["es"]["n"] == 3
    code, out, _ = run_cli("eval", EVAL / "queries.jsonl", "--index", eval_index)
    assert "recall@1" in out and out.count("\n") == 3


def test_exact_label_word_wins(run_cli, eval_index):
    # dense alone ranks the parrot above the Samoyed for "samoyed"; the label's exact word fixes it
    code, out, _ = run_cli("search", "samoyed", "--index", eval_index, "--json")
    top = json.loads(out)["results"][0]
    assert code == 0 and top["path"] == "d01" and top["matched"] == {"labels": ["samoyed"]}


def test_off_topic_query_has_no_good_match(run_cli, eval_index):
    code, out, _ = run_cli("search", "quarterly tax form deadline", "--index", eval_index, "--json")
    result = json.loads(out)
    # the signal is kept, and the closest few photos come with it: never an empty answer
    assert code == 0 and result["no_good_match"] and 1 <= len(result["results"]) <= 5
    code, out, _ = run_cli("search", "quarterly tax form deadline", "--index", eval_index)
    assert "No good match" in out and "the closest photos:" in out and "  1. " in out


def test_scores_are_cosines(run_cli, eval_index):
    code, out, _ = run_cli("search", "a white dog catching a frisbee in a park", "--index", eval_index, "--json")
    top = json.loads(out)["results"][0]
    assert top["path"] == "d01" and 0.8 < top["semantic"] <= 1.0001


def test_import_reports_bad_lines_and_updates(run_cli, tmp_path):
    data = tmp_path / "mine.jsonl"
    data.write_text(
        '{"id": "a.jpg", "caption": "a red bicycle against a wall", "labels": ["mountain bike"]}\n'
        "not json\n"
        '{"id": "b.jpg"}\n'
        '{"id": "c.jpg", "caption": "a bowl of ramen", "labels": "noodles"}\n'
    )
    index = tmp_path / "idx"
    code, out, _ = run_cli("import", data, "--index", index, "--json")
    summary = json.loads(out)
    assert code == 0 and summary["added"] == 1
    assert [s["line"] for s in summary["skipped"]] == [2, 3, 4]
    data.write_text('{"id": "a.jpg", "caption": "a blue bicycle against a wall"}\n')
    code, out, _ = run_cli("import", data, "--index", index, "--json")
    assert json.loads(out)["updated"] == 1
    code, out, _ = run_cli("search", "blue bike", "--index", index, "--json")
    assert json.loads(out)["results"][0]["caption"] == "a blue bicycle against a wall"
    code, out, _ = run_cli("stats", "--index", index, "--json")
    assert json.loads(out)["indexed"] == 1 and json.loads(out)["vectors"] == 1


def test_no_good_match_signal_on_off_topic_queries(eval_index):
    """Precision and recall of the per-query "no good match" flag: off-topic queries should raise it."""
    from glimpse.indexer.models import TextEmbedder
    from glimpse.indexer.store import IndexStore
    from glimpse.search import Searcher

    from tests.conftest import REPO

    off = [json.loads(line)["query"] for line in (REPO / "data/eval/offtopic.jsonl").read_text().splitlines()]
    on = [json.loads(line)["query"] for line in (EVAL / "queries.jsonl").read_text().splitlines()]
    with IndexStore.open(eval_index) as store:
        searcher = Searcher(store, TextEmbedder())
        flagged_off = sum(searcher.search(q).no_good_match for q in off)
        flagged_on = sum(searcher.search(q).no_good_match for q in on)
    precision, recall = flagged_off / (flagged_off + flagged_on), flagged_off / len(off)
    # measured 0.85 / 0.85; a fixed 0.3 cutoff alone gives 0.82 / 0.45
    assert precision >= 0.8 and recall >= 0.8, (precision, recall)


def test_why_it_matched(run_cli, eval_index):
    code, out, _ = run_cli("search", "dog on a leash", "--index", eval_index, "--json", "-k", "1")
    top = json.loads(out)["results"][0]
    # d03: "a man walking a dog on a leash in the city", labels dalmatian, leash, crosswalk
    assert top["path"] == "d03" and top["matched"] == {"caption": ["dog", "leash"], "labels": ["leash"]}
    code, out, _ = run_cli("search", "dog on a leash", "--index", eval_index, "-k", "1")
    assert "[matched caption: dog, leash; labels: leash]" in out
