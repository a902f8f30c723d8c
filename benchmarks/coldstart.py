"""Cold start: how long `glimpse --help` and `glimpse search` take from a fresh process, and what they import.

    python benchmarks/coldstart.py               # 10k photos, 7 cold runs of each command
    python benchmarks/coldstart.py --photos 100000 --runs 9

The index holds `--photos` imported captions (built once with `glimpse import`, cached under the benchmark
cache). Each run is a new Python process running the console script's `main` (as `glimpse` does); wall time from
spawn to exit, p50 (and min/max) of `--runs`. `glimpse search` is run twice side by side, alternating: with the
lean text engine (the default, GLIMPSE_TEXT_ENGINE=auto) and with the sentence-transformers reference
(GLIMPSE_TEXT_ENGINE=torch, what every search paid before), so the ratio holds on a busy machine too. Then
`python -X importtime` gives each command's import chain: the top-level packages by cumulative time.

Targets (issue 14, on an AVX2-only CPU): `glimpse --help` <= 0.3 s, `glimpse search` <= 1.5 s at 10k photos.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

from common import cache_dir, log, median, percentile

sys.path.insert(0, str(Path(__file__).parent))
from search import captions  # noqa: E402 - the same caption grammar as the search benchmark

ENTRY = "import sys; from glimpse.ui.cli import main; sys.exit(main())"  # what the `glimpse` console script runs


def build_index(photos: int) -> Path:
    folder = cache_dir() / f"coldstart-{photos}"
    if (folder / "manifest.json").is_file():
        return folder
    jsonl = cache_dir() / f"coldstart-{photos}.jsonl"
    texts = captions(min(photos, 40_000))
    with open(jsonl, "w") as f:
        for i in range(photos):
            text = texts[i % len(texts)]
            f.write(json.dumps({"id": f"photo-{i:07d}.jpg", "caption": text, "labels": [text.split()[2]]}) + "\n")
    log(f"building a {photos}-photo index from imported captions (once): {folder}")
    run(["import", str(jsonl), "--index", str(folder)])
    return folder


def run(args: list[str], env: dict | None = None, importtime: bool = False):
    command = [sys.executable] + (["-X", "importtime"] if importtime else []) + ["-c", ENTRY, *args]
    started = time.perf_counter()
    done = subprocess.run(command, env={**os.environ, **(env or {})}, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return elapsed, done


def import_chain(args: list[str], env: dict | None = None, top: int = 8) -> tuple[float, list[tuple[str, float]]]:
    """(total import seconds, [(package, seconds)...]) from `python -X importtime`: each module's own time
    (without what it imports) summed per top-level package, so `glimpse` is glimpse's code alone and numpy is
    numpy whoever imported it."""
    _, done = run(args, env=env, importtime=True)
    packages: dict[str, float] = {}
    for line in done.stderr.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+\d+ \|\s*(\S+)", line)
        if m:
            name = m.group(2).split(".")[0]
            packages[name] = packages.get(name, 0.0) + int(m.group(1)) / 1e6
    ranked = sorted(packages.items(), key=lambda kv: -kv[1])
    return sum(packages.values()), ranked[:top]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--photos", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--query", default="dog on a beach")
    args = parser.parse_args()
    from glimpse.indexer.cpu import cpu

    print(f"machine: {cpu().describe()}; Python {sys.version.split()[0]}")
    index = build_index(args.photos)
    search = ["search", args.query, "--index", str(index)]
    run(search)  # warm the page cache: "cold" here is a new process, not a cold disk
    times: dict[str, list[float]] = {"help": [], "search": [], "search (reference)": []}
    for _ in range(args.runs):  # alternating, so a busy moment hits all three alike
        times["help"].append(run(["--help"])[0])
        times["search"].append(run(search, env={"GLIMPSE_TEXT_ENGINE": "auto"})[0])
        times["search (reference)"].append(run(search, env={"GLIMPSE_TEXT_ENGINE": "torch"})[0])
    busy = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"index: {args.photos} photos (imported captions); {args.runs} cold runs each; load average {busy}")
    targets = {"help": 0.3, "search": 1.5}
    for name, values in times.items():
        target = f"  (target <= {targets[name]} s)" if name in targets else ""
        print(
            f"  glimpse {name:<20} p50 {median(values):6.2f} s   min {min(values):5.2f}   max {max(values):5.2f}"
            f"   p90 {percentile(values, 90):5.2f}{target}"
        )
    ratio = median(times["search (reference)"]) / median(times["search"])
    print(f"  search, lean engine vs sentence-transformers reference: {ratio:.1f}x faster (p50)")
    for name, cmd, env in [
        ("--help", ["--help"], None),
        ("search", search, {"GLIMPSE_TEXT_ENGINE": "auto"}),
        ("search (reference)", search, {"GLIMPSE_TEXT_ENGINE": "torch"}),
    ]:
        total, chain = import_chain(cmd, env)
        print(f"import chain, glimpse {name}: {total:.2f} s of imports; " + ", ".join(f"{p} {s:.2f}" for p, s in chain))


if __name__ == "__main__":
    main()
