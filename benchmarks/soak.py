"""Soak the web app: concurrent searches plus repeated uploads for a bounded time, over loopback only.

    python benchmarks/soak.py [--seconds 180] [--clients 4] [--uploaders 2] [--max-requests 200000] [--json]

Starts the app in this process on a free 127.0.0.1 port, with tiny local models (random BLIP and ResNet-18,
the real MiniLM; tests/model_factory.py) over an index of data/photos plus imported captions, the way the
tests do (tests/ui_helpers.py). Then, until the time or the request count runs out:

- `--clients` threads search (plain queries, some with a folder, label or date filter, some with -word) and
  now and then ask for the photos like a result (`/similar` by id);
- `--uploaders` threads upload a sample photo (with a few random bytes after its end, so every upload is a new
  file) and describe it (`/describe`).

Requests go through Gradio's HTTP API (`/gradio_api/upload`, `/gradio_api/call/<name>`), as gradio_client's do.
Reported: requests and errors per endpoint, p50/p99 latency (upload and call together for describe), and the
growth of the process's resident memory from the end of the warm-up (the first quarter of the time) to the
end. The clients run in the same process as the server, so their memory counts too. Exit status 1 when any
request failed or memory grew by 10% or more.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import secrets
import shutil
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"

REPO = Path(__file__).resolve().parent.parent
PHOTOS = REPO / "data" / "photos"
MAX_RSS_GROWTH = 0.10
TIMEOUT = 60.0  # seconds per request
QUERIES = [
    "dog on the beach",
    "a dog running on sand",
    "fruit in a kitchen",
    "snowy mountains at sunrise",
    "a cat",
    "coffee",
    "rocket launch at night",
    "astronaut",
    "a temple above a lake",
    "orange flower",
    "chelsea",
    "a photo of something",
    "beach -dog",
    "xqzv plorble",
]


def rss_bytes() -> int:
    """Resident memory of this process (Linux: /proc/self/statm)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class Stats:
    """Latencies and errors per endpoint, from many threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.latencies: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, int] = defaultdict(int)
        self.messages: list[str] = []

    def record(self, endpoint: str, seconds: float, error: str | None = None) -> None:
        with self.lock:
            self.latencies[endpoint].append(seconds)
            if error:
                self.errors[endpoint] += 1
                if len(self.messages) < 10:
                    self.messages.append(f"{endpoint}: {error[:300]}")

    @property
    def requests(self) -> int:
        with self.lock:
            return sum(len(v) for v in self.latencies.values())

    def summary(self) -> dict:
        import numpy as np

        with self.lock:
            return {
                name: {
                    "requests": len(times),
                    "errors": self.errors[name],
                    "p50_ms": round(float(np.percentile(times, 50)) * 1000, 1),
                    "p99_ms": round(float(np.percentile(times, 99)) * 1000, 1),
                    "max_ms": round(max(times) * 1000, 1),
                }
                for name, times in sorted(self.latencies.items())
            }


class AppClient:
    """The two halves of Gradio's HTTP API that gradio_client uses: file upload, and call-then-stream.

    Like a gradio_client Client (or a browser tab), it makes its calls in one session, unless `fresh_sessions`:
    then every call is a session of its own, as with curl, which fills the app's session store (ui/app.py)."""

    def __init__(self, url: str, fresh_sessions: bool = False):
        import httpx

        self.url = url.rstrip("/") + "/"
        self.http = httpx.Client(timeout=TIMEOUT, trust_env=False)  # trust_env=False: never a proxy
        self.session = None if fresh_sessions else secrets.token_hex(8)

    def close(self) -> None:
        self.http.close()

    def upload(self, name: str, data: bytes) -> dict:
        response = self.http.post(f"{self.url}gradio_api/upload", files=[("files", (name, data, "image/jpeg"))])
        response.raise_for_status()
        [path] = response.json()
        return {"path": path, "orig_name": name, "meta": {"_type": "gradio.FileData"}}

    def call(self, api: str, *data):
        body = {"data": list(data), "session_hash": self.session}
        response = self.http.post(f"{self.url}gradio_api/call/{api}", json=body)
        response.raise_for_status()
        event_id = response.json()["event_id"]
        stream = self.http.get(f"{self.url}gradio_api/call/{api}/{event_id}")
        stream.raise_for_status()
        event = None
        for line in stream.text.splitlines():
            if line.startswith("event: "):
                event = line[len("event: ") :]
            elif line.startswith("data: ") and event in ("complete", "error"):
                if event == "error":
                    raise RuntimeError(f"the app answered with an error: {line[6:]}")
                return json.loads(line[6:])
        raise RuntimeError(f"no result in the event stream: {stream.text[-300:]!r}")


def timed(stats: Stats, endpoint: str, fn, *args):
    started = time.perf_counter()
    try:
        result = fn(*args)
    except Exception as e:  # noqa: BLE001 - every failure is counted and reported, none stops the soak
        stats.record(endpoint, time.perf_counter() - started, f"{type(e).__name__}: {e}")
        return None
    stats.record(endpoint, time.perf_counter() - started)
    return result


def searcher(client: AppClient, stats: Stats, keep_going, seed: int, library: Path) -> None:
    rng = random.Random(seed)
    folders = ["", "", "", str(library / "pets"), str(library / "travel")]
    try:
        while keep_going():
            query, k = rng.choice(QUERIES), rng.randint(3, 24)
            since = rng.choice(["", "", "", "2016-01-01"])
            label, folder = rng.choice(["", "", "", "seashore"]), rng.choice(folders)
            results = timed(stats, "search", client.call, "search", query, k, label, folder, since, "")
            ids = [r["id"] for r in (results[0] if results else []) if os.path.isabs(r["file"])]  # photos, not imports
            if ids and rng.random() < 0.25:
                timed(stats, "similar", client.call, "similar", rng.choice(ids), None, rng.randint(3, 12))
    finally:
        client.close()


def uploader(client: AppClient, stats: Stats, keep_going, seed: int) -> None:
    rng = random.Random(seed)
    photos = [(p.name, p.read_bytes()) for p in sorted(PHOTOS.rglob("*.jpg"))]
    try:
        while keep_going():
            name, data = rng.choice(photos)
            data += rng.randbytes(16)  # after the JPEG's end: a new file every time, the same picture

            def describe(name=name, data=data):
                caption, labels = client.call("describe", client.upload(name, data))
                if not isinstance(caption, str) or not labels:
                    raise RuntimeError(f"unexpected answer: {caption!r}, {labels!r}")

            timed(stats, "describe", describe)
    finally:
        client.close()


def build_site(work: Path, models=None):
    """(demo, Library, library folder): the app over an index of a copy of data/photos plus imported captions."""
    from glimpse.ui.app import build_app
    from glimpse.ui.library import Library

    from tests.ui_helpers import make_index

    if models is None:
        from glimpse.indexer.models import BlipCaptioner, Models, ResNetClassifier, TextEmbedder

        from tests.model_factory import build_blip, build_resnet18

        models = Models(
            BlipCaptioner(str(build_blip(work / "blip")), precision="fp32", max_new_tokens=8),
            ResNetClassifier(str(build_resnet18(work / "resnet18.pth")), precision="fp32"),
            TextEmbedder(),
        ).load()
    library = work / "library"
    shutil.copytree(PHOTOS, library)
    index = make_index(work / "index", library, models)
    app_library = Library(index, models)
    return build_app(app_library, thumbs_dir=work / "thumbs"), app_library, library.resolve()


def soak(
    seconds: float = 180,
    clients: int = 4,
    uploaders: int = 2,
    max_requests: int = 200_000,
    warm_up: float = 0.25,
    fresh_sessions: bool = False,
    models=None,
    progress=None,
) -> dict:
    """Run the soak; returns the report (see `main`). `models` may be already-loaded glimpse Models."""
    from tests.ui_helpers import serving

    work = Path(tempfile.mkdtemp(prefix="glimpse-soak-"))
    temp_dir = os.environ.get("GRADIO_TEMP_DIR")
    os.environ["GRADIO_TEMP_DIR"] = str(work / "gradio")  # uploads land here, and go with the work folder
    try:
        demo, app_library, library = build_site(work, models)
        stats = Stats()
        with serving(demo, app_library) as url:
            assert url.startswith("http://127.0.0.1:"), url
            # one of each request before the clock starts, so lazily built things exist already
            first = AppClient(url)
            try:
                photo = first.call("search", "chelsea", 5, "", "", "", "")[0][0]
                first.call("similar", photo["id"], None, 3)
                first.call("describe", first.upload("chelsea.jpg", (PHOTOS / "pets" / "chelsea.jpg").read_bytes()))
            finally:
                first.close()

            started = time.monotonic()
            deadline = started + seconds
            stop = threading.Event()

            def keep_going() -> bool:
                return not stop.is_set() and time.monotonic() < deadline and stats.requests < max_requests

            def client() -> AppClient:
                return AppClient(url, fresh_sessions)

            threads = [
                threading.Thread(target=searcher, args=(client(), stats, keep_going, n, library), daemon=True)
                for n in range(clients)
            ] + [
                threading.Thread(target=uploader, args=(client(), stats, keep_going, 1000 + n), daemon=True)
                for n in range(uploaders)
            ]
            for t in threads:
                t.start()
            baseline, peak, warm_requests = None, rss_bytes(), 0
            timeline = [(0.0, peak)]  # (seconds, RSS), ten points over the run
            while any(t.is_alive() for t in threads):
                time.sleep(0.25)
                rss = rss_bytes()
                peak = max(peak, rss)
                elapsed = time.monotonic() - started
                if elapsed >= len(timeline) * seconds / 10:
                    timeline.append((elapsed, rss))
                if baseline is None and elapsed >= seconds * warm_up:
                    baseline, warm_requests = rss, stats.requests
                if progress:
                    progress(elapsed, stats.requests)
            stop.set()
            for t in threads:
                t.join(TIMEOUT)
            took = time.monotonic() - started
            final = rss_bytes()
        baseline = baseline or final
        endpoints = stats.summary()
        errors = sum(e["errors"] for e in endpoints.values())
        growth = (final - baseline) / baseline
        return {
            "seconds": round(took, 1),
            "clients": clients,
            "uploaders": uploaders,
            "fresh_sessions": fresh_sessions,
            "requests": stats.requests,
            "requests_after_warm_up": stats.requests - warm_requests,
            "errors": errors,
            "error_messages": stats.messages,
            "endpoints": endpoints,
            "rss_mb": {
                "after_warm_up": round(baseline / 2**20, 1),
                "end": round(final / 2**20, 1),
                "peak": round(peak / 2**20, 1),
                "timeline": [(round(t), round(r / 2**20)) for t, r in timeline],
            },
            "rss_growth": round(growth, 4),
            "ok": errors == 0 and growth < MAX_RSS_GROWTH,
        }
    finally:
        if temp_dir is None:
            os.environ.pop("GRADIO_TEMP_DIR", None)
        else:
            os.environ["GRADIO_TEMP_DIR"] = temp_dir
        shutil.rmtree(work, ignore_errors=True)


def render(report: dict) -> str:
    lines = [
        f"{report['requests']} requests in {report['seconds']:.0f} s from {report['clients']} search clients and "
        f"{report['uploaders']} upload clients{' (a new session per request)' if report['fresh_sessions'] else ''}: "
        f"{report['errors']} errors",
        f"{'endpoint':<10} {'requests':>8} {'errors':>6} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}",
    ]
    for name, e in report["endpoints"].items():
        times = f"{e['p50_ms']:>8.1f} {e['p99_ms']:>8.1f} {e['max_ms']:>8.1f}"
        lines.append(f"{name:<10} {e['requests']:>8} {e['errors']:>6} {times}")
    rss = report["rss_mb"]
    lines.append(
        f"RSS {rss['after_warm_up']:.0f} MB after warm-up -> {rss['end']:.0f} MB at the end "
        f"({report['rss_growth']:+.1%}; peak {rss['peak']:.0f} MB)",
    )
    lines.append("RSS over time: " + ", ".join(f"{t} s {mb} MB" for t, mb in rss["timeline"]))
    lines += [f"  error: {m}" for m in report["error_messages"]]
    lines.append("OK" if report["ok"] else f"FAILED (goals: 0 errors, RSS growth under {MAX_RSS_GROWTH:.0%})")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=180, help="how long to run (default 180)")
    parser.add_argument("--clients", type=int, default=4, help="concurrent search clients (default 4)")
    parser.add_argument("--uploaders", type=int, default=2, help="concurrent upload clients (default 2)")
    parser.add_argument("--max-requests", type=int, default=200_000, help="stop after this many (default 200000)")
    parser.add_argument(
        "--fresh-sessions", action="store_true", help="every request a session of its own, as with curl"
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args(argv)

    shown = 0.0

    def progress(elapsed: float, requests: int) -> None:
        nonlocal shown
        if elapsed - shown >= 10:
            shown = elapsed
            print(f"  {elapsed:5.0f} s  {requests} requests", file=sys.stderr)

    with contextlib.redirect_stdout(sys.stderr):  # stdout is for the report only (Gradio prints there)
        report = soak(
            args.seconds, args.clients, args.uploaders, args.max_requests, fresh_sessions=args.fresh_sessions,
            progress=progress,
        )  # fmt: skip
    print(json.dumps(report, indent=2) if args.json else render(report))
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
