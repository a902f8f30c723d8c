"""Hostile requests against a running app: files outside the library, disguised paths, oversized and
non-image uploads, the bind address, and --auth. Requests are sent with http.client, which puts the path on
the wire exactly as written (no `..` clean-up, no re-encoding)."""

from __future__ import annotations

import http.client
import json
import logging
import os
import shutil
import socket
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.conftest import DATA, REPO
from tests.ui_helpers import make_index, serving

pytestmark = pytest.mark.slow

SECRET = "TOP-SECRET-7f3a"
UPLOAD_LIMIT = 100_000  # bytes, for this app


@pytest.fixture(scope="module")
def site(tmp_path_factory, tiny_models):
    """A running app over a library that also holds things it must never serve."""
    from glimpse.ui.app import build_app
    from glimpse.ui.library import Library

    root = tmp_path_factory.mktemp("ui-security")
    library, outside = root / "library", root / "outside"
    shutil.copytree(DATA, library)
    outside.mkdir()
    (outside / "secret.txt").write_text(SECRET)
    shutil.copy(DATA / "pets" / "chelsea.jpg", outside / "secret.jpg")
    (library / "notes.txt").write_text(SECRET)  # not a photo, inside the library
    (library / ".hidden").mkdir()
    shutil.copy(DATA / "food" / "coffee.jpg", library / ".hidden" / "private.jpg")
    (library / "link.jpg").symlink_to(outside / "secret.jpg")  # inside the library, pointing out of it
    (library / "link-dir").symlink_to(outside, target_is_directory=True)
    index = make_index(library / ".glimpse-index", library, tiny_models, imports=[])  # the index lives inside
    app_library = Library(index, tiny_models)
    demo = build_app(app_library, thumbs_dir=root / "thumbs")
    with serving(demo, app_library, max_file_size=UPLOAD_LIMIT) as url:
        port = int(url.rstrip("/").rsplit(":", 1)[1])
        yield {
            "url": url, "port": port, "library": library, "outside": outside, "index": index, "demo": demo,
            "app_library": app_library,
        }  # fmt: skip


def get(port: int, raw_path: str, headers: dict | None = None) -> tuple[int, dict, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    try:
        conn.request("GET", raw_path, headers=headers or {})
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def probes(library: Path, outside: Path, index: Path) -> dict[str, str]:
    lib, out = str(library), str(outside)
    return {
        "/etc/passwd": "/gradio_api/file=/etc/passwd",
        "absolute path outside": f"/gradio_api/file={out}/secret.txt",
        "absolute image outside": f"/gradio_api/file={out}/secret.jpg",
        "../ out of the library": f"/gradio_api/file={lib}/../outside/secret.txt",
        "../ to /etc": f"/gradio_api/file={lib}/../../../../../../../../etc/passwd",
        "relative ../": "/gradio_api/file=../../../../../../../../etc/passwd",
        "%2e%2e": f"/gradio_api/file={lib}/%2e%2e/outside/secret.txt",
        "%2E%2E%2F": f"/gradio_api/file={lib}/%2E%2E%2Foutside%2Fsecret.txt",
        "%2F-encoded absolute": "/gradio_api/file=%2Fetc%2Fpasswd",
        "double-encoded ..": f"/gradio_api/file={lib}/%252e%252e/outside/secret.txt",
        "old /file/ route": "/gradio_api/file//etc/passwd",
        "old /file/ route, ../": f"/gradio_api/file/{lib}/../outside/secret.txt",
        "symlinked image pointing outside": f"/gradio_api/file={lib}/link.jpg",
        "symlinked folder pointing outside": f"/gradio_api/file={lib}/link-dir/secret.jpg",
        "non-image inside the library": f"/gradio_api/file={lib}/notes.txt",
        "hidden folder inside the library": f"/gradio_api/file={lib}/.hidden/private.jpg",
        "the catalog": f"/gradio_api/file={index}/catalog.db",
        "the manifest": f"/gradio_api/file={index}/manifest.json",
        "the source tree (cwd)": f"/gradio_api/file={REPO}/pyproject.toml",
        "the process environment": "/gradio_api/file=/proc/self/environ",
    }


def test_files_outside_the_library_are_refused(site):
    refused = {}
    for name, path in probes(site["library"], site["outside"], site["index"]).items():
        status, _, body = get(site["port"], path)
        assert status in (400, 403, 404), f"{name}: {path} answered {status}"
        assert SECRET.encode() not in body and b"root:x:0:0" not in body and b"SQLite format" not in body, name
        refused[name] = status
    assert len(refused) == 20 and set(refused.values()) == {403}, refused


def test_library_photos_are_served(site):
    """The control: the refusals above are not simply everything being refused."""
    status, headers, body = get(site["port"], f"/gradio_api/file={site['library']}/pets/chelsea.jpg")
    assert status == 200 and body[:2] == b"\xff\xd8" and headers["content-type"] == "image/jpeg"
    status, _, _ = get(site["port"], f"/gradio_api/file={site['library']}/pets/../food/coffee.jpg")
    assert status == 200  # `..` that stays inside the library is fine


def test_the_guard_alone(site, tmp_path):
    """LibraryFileGuard's rule, without Gradio: inside a root only visible image files; else only glimpse's own
    temporary files."""
    from glimpse.ui.guard import refused, requested_file

    roots, temp = [site["library"]], [tmp_path]
    assert refused(f"{site['library']}/notes.txt", roots, temp)
    assert refused(f"{site['library']}/.hidden/private.jpg", roots, temp)
    assert not refused(f"{site['library']}/pets/chelsea.jpg", roots, temp)
    assert not refused(f"{tmp_path}/upload/x.html", roots, temp)
    # outside the roots and the temporary folder (also where a symlink inside leads)
    assert refused("/etc/passwd", roots, temp) and refused(f"{site['library']}/link.jpg", roots, temp)
    assert refused("/tmp/gradio/x.jpg", roots, temp) and refused(f"{tmp_path}/x\0.jpg", roots, temp)
    assert requested_file("/gradio_api/file=/a/b.jpg") == "/a/b.jpg" and requested_file("/config") is None


def test_uploads_over_the_limit_are_rejected(site):
    import httpx

    big = os.urandom(UPLOAD_LIMIT + 50_000)
    response = httpx.post(f"{site['url']}gradio_api/upload", files={"files": ("big.jpg", big, "image/jpeg")})
    assert response.status_code == 413 and "maximum allowed size" in response.text
    small = (DATA / "pets" / "chelsea.jpg").read_bytes()
    response = httpx.post(f"{site['url']}gradio_api/upload", files={"files": ("ok.jpg", small, "image/jpeg")})
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("page.html", "<html><body onload='alert(document.cookie)'>hi</body></html>"),
        ("drawing.svg", '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><circle r="4"/></svg>'),
        ("drawing.svg.png", '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><circle r="4"/></svg>'),
    ],
)
def test_html_and_svg_uploads_are_rejected(site, tmp_path, name, content):
    from gradio_client import Client, handle_file
    from gradio_client.exceptions import AppError

    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(AppError, match="not a photo|can't be read as a photo"):
        Client(site["url"], verbose=False).predict(handle_file(str(path)), api_name="/describe")


def test_an_uploaded_html_file_is_never_served_as_a_page(site):
    import httpx

    html = b"<html><script>alert(document.cookie)</script></html>"
    response = httpx.post(f"{site['url']}gradio_api/upload", files={"files": ("x.html", html, "text/html")})
    (stored,) = response.json()
    status, headers, _ = get(site["port"], f"/gradio_api/file={stored}")
    assert status != 200 or (
        not headers["content-type"].startswith("text/html") and headers["content-disposition"].startswith("attachment")
    )


@pytest.mark.parametrize(
    ("api", "data"),
    [
        ("describe", [{"path": "/etc/passwd", "meta": {"_type": "gradio.FileData"}}]),
        ("similar", [None, {"path": "/etc/passwd", "meta": {"_type": "gradio.FileData"}}, 3]),
        ("similar", [None, {"path": "{outside}/secret.jpg", "meta": {"_type": "gradio.FileData"}}, 3]),
    ],
)
def test_uploads_are_only_read_from_the_upload_folder(site, api, data):
    """An API caller cannot name a server file as the image: only files in Gradio's upload folder are accepted."""
    import httpx

    payload = json.loads(json.dumps({"data": data}).replace("{outside}", str(site["outside"])))
    event = httpx.post(f"{site['url']}gradio_api/call/{api}", json=payload).json()["event_id"]
    stream = httpx.get(f"{site['url']}gradio_api/call/{api}/{event}", timeout=30).text
    assert "event: error" in stream and "root:x:0:0" not in stream and "secret" not in stream


def test_binds_to_loopback_only(site):
    assert site["demo"].server_name == "127.0.0.1"
    with socket.create_connection(("127.0.0.1", site["port"]), timeout=5):
        pass
    with pytest.raises(OSError):  # 127.0.0.2 is the same machine, another address: nobody listens there
        socket.create_connection(("127.0.0.2", site["port"]), timeout=5).close()


def test_auth_protects_pages_api_and_files(tmp_path, tiny_models, site):
    import httpx
    from glimpse.ui.app import build_app
    from glimpse.ui.library import Library
    from gradio_client import Client

    app_library = Library(site["index"], tiny_models)
    demo = build_app(app_library, thumbs_dir=tmp_path / "thumbs")
    with serving(demo, app_library, auth=("ann", "s3cret:pass")) as url:
        port = int(url.rstrip("/").rsplit(":", 1)[1])
        call = httpx.post(f"{url}gradio_api/call/search", json={"data": ["cat", 3]})
        assert call.status_code == 401
        status, _, body = get(port, f"/gradio_api/file={site['library']}/pets/chelsea.jpg")
        assert status == 401 and body[:2] != b"\xff\xd8"
        status, _, body = get(port, "/config")
        assert status == 401 and json.loads(body)["detail"]["error"] == "Not authenticated"
        with pytest.raises(Exception):  # noqa: B017 - gradio_client raises a bare ValueError or an HTTP error
            Client(url, verbose=False)
        with pytest.raises(Exception):  # noqa: B017
            Client(url, auth=("ann", "wrong"), verbose=False)
        client = Client(url, auth=("ann", "s3cret:pass"), verbose=False)
        assert isinstance(client.predict("chelsea", 3, api_name="/search"), list)


def test_serve_defaults_and_flags(monkeypatch, run_cli, tmp_path):
    import glimpse.ui.server

    calls = []

    def fake_launch(demo, library, **options):
        calls.append(options)
        return None, "http://127.0.0.1:7860/", None

    monkeypatch.setattr(glimpse.ui.server, "launch", fake_launch)
    index = tmp_path / "no-index-yet"
    code, _, err = run_cli("serve", "--index", index)
    assert code == 0, err
    assert calls[-1] == {"host": "127.0.0.1", "port": 7860, "share": False, "auth": None, "prevent_thread_lock": True}

    monkeypatch.setenv("GLIMPSE_AUTH", "ann:s3cret:pass")
    assert run_cli("serve", "--index", index, "--share", "--port", "7999")[0] == 0
    assert calls[-1]["share"] is True and calls[-1]["auth"] == ("ann", "s3cret:pass") and calls[-1]["port"] == 7999
    assert run_cli("serve", "--index", index, "--auth", "bob:pw")[0] == 0
    assert calls[-1]["auth"] == ("bob", "pw")

    code, _, err = run_cli("serve", "--index", index, "--auth", "no-colon")
    assert code == 2 and "USER:PASSWORD" in err


def test_launch_options(monkeypatch, caplog, site):
    """What ui.server.launch hands to Gradio: exactly the library roots, the index blocked, an upload limit, a
    bounded session store."""
    from glimpse.ui.server import launch

    demo = site["demo"]
    seen = {}
    monkeypatch.setattr(demo, "launch", lambda **options: seen.update(options) or (None, "", None))
    monkeypatch.setenv("GRADIO_ALLOWED_PATHS", "/")
    with caplog.at_level("WARNING", logger="glimpse.ui.server"):
        launch(demo, site["app_library"], share=True)
    assert seen["allowed_paths"] == [str(site["library"])] and seen["blocked_paths"] == [str(site["index"])]
    assert seen["server_name"] == "127.0.0.1" and seen["share"] is True and seen["max_file_size"]
    assert seen["run_history"] is False and seen["ssr_mode"] is False and seen["mcp_server"] is False
    assert seen["state_session_capacity"] == 500 and site["demo"].state_session_capacity == 500  # bounded memory
    assert "GRADIO_ALLOWED_PATHS" not in os.environ
    text = caplog.text
    assert "anyone with the link" in text and "--auth" in text and "GRADIO_ALLOWED_PATHS is ignored" in text
    caplog.clear()
    with caplog.at_level("WARNING", logger="glimpse.ui.server"):
        launch(demo, site["app_library"], host="0.0.0.0")
    assert "without --auth" in caplog.text


# -- before login, nothing about the library -----------------------------------------------------------------
@pytest.fixture(scope="module")
def locked(site, tiny_models, tmp_path_factory):
    """The site's library behind --auth, on its own port."""
    from glimpse.ui.app import build_app
    from glimpse.ui.library import Library

    app_library = Library(site["index"], tiny_models)
    demo = build_app(app_library, thumbs_dir=tmp_path_factory.mktemp("locked") / "thumbs")
    with serving(demo, app_library, auth=("ann", "s3cret:pass")) as url:
        yield {"url": url, "port": int(url.rstrip("/").rsplit(":", 1)[1]), "app_library": app_library}


PUBLIC_ROUTES = [
    "/", "/?__theme=dark", "/config", "/info", "/gradio_api/info", "/gradio_api/info?all_endpoints=true",
    "/gradio_api/openapi.json", "/openapi.json", "/docs", "/redoc", "/theme.css", "/gradio_api/theme.css",
    "/manifest.json", "/robots.txt", "/favicon.ico", "/pwa_icon", "/gradio_api/app_id", "/gradio_api/token",
    "/gradio_api/user", "/gradio_api/login_check", "/gradio_api/startup-events", "/gradio_api/queue/status",
    "/gradio_api/runs", "/gradio_api/deep_link", "/monitoring", "/monitoring/summary", "/gradio_api/mcp/schema",
    "/gradio_api/upload_progress?upload_id=x", "/gradio_api/queue/data?session_hash=x",
    "/gradio_api/call/search/x", "/static/img/logo.svg", "/svelte/x.js", "/gradio_api/file=x.jpg",
]  # fmt: skip


def test_nothing_about_the_library_before_login(site, locked):
    """Every route a stranger can reach, GET and POST: no library or index path, no photo name, no counts, no
    API description."""
    import httpx

    library, index = site["library"], site["index"]
    stats = locked["app_library"].stats()
    secrets = [str(library), str(index), "chelsea", "coffee", "named_endpoints", "search_gallery", "api_name",
               f"**{stats['indexed']}** photos", "Index or re-index"]  # fmt: skip
    port, url = locked["port"], locked["url"]
    answers = {route: get(port, route) for route in PUBLIC_ROUTES}
    posts = {
        "/gradio_api/queue/join": {"data": [], "fn_index": 0, "session_hash": "x"},
        "/gradio_api/call/search": {"data": ["cat", 3]},
        "/gradio_api/run/search": {"data": ["cat", 3]},
        "/gradio_api/upload": None,
        "/gradio_api/cancel": {"session_hash": "x", "fn_index": 0, "event_id": "x"},
        "/login": None,
    }
    for route, body in posts.items():
        response = httpx.post(f"{url.rstrip('/')}{route}", json=body)
        answers[f"POST {route}"] = (response.status_code, {}, response.content)
    leaks = {}
    for route, (status, _, body) in answers.items():
        text = body.decode("utf-8", "replace")
        if leaked := [s for s in secrets if s in text]:
            leaks[f"{route} ({status})"] = leaked
    assert not leaks
    status, _, page = answers["/"]
    assert status == 200 and b"auth_required" in page  # the login page itself still loads
    assert answers["/config"][0] == 401 and answers["/gradio_api/info"][0] == 401


def test_the_library_is_named_after_login(locked, site):
    """What the page no longer carries, the signed-in app fills in on load: the index folder, the library's."""
    from gradio_client import Client

    client = Client(locked["url"], auth=("ann", "s3cret:pass"), verbose=False)
    header, intro, *_, folders = client.predict(api_name="/overview")
    from glimpse.ui.views import md_code

    assert md_code(str(site["index"])) in intro and "photos indexed" in header
    assert [str(site["library"])] * 2 in folders["choices"]
    assert client.predict(api_name="/first_folder") == str(site["library"])


# -- paths that can't be resolved ----------------------------------------------------------------------------
@contextmanager
def server_log():
    """Everything the server logs meanwhile (uvicorn's and Gradio's loggers don't all reach the root one), with
    tracebacks."""
    lines: list[str] = []
    handler = logging.Handler(logging.DEBUG)
    handler.emit = lambda record: lines.append(logging.Formatter().format(record))
    loggers = [logging.getLogger(name) for name in ("", "uvicorn", "uvicorn.error", "uvicorn.access", "gradio")]
    for logger in loggers:
        logger.addHandler(handler)
    try:
        yield lines
    finally:
        for logger in loggers:
            logger.removeHandler(handler)


def test_nul_bytes_and_symlink_loops_are_refused_quietly(site):
    lib, out = site["library"], site["outside"]
    for folder in (lib, out):
        if not (folder / "loop.jpg").is_symlink():
            (folder / "loop.jpg").symlink_to(folder / "loop.jpg")
            (folder / "loop-a").symlink_to(folder / "loop-b")
            (folder / "loop-b").symlink_to(folder / "loop-a")
    requests = {
        "NUL in a library photo's name": f"/gradio_api/file={lib}/pets/chelsea.jpg%00.txt",
        "NUL in a library folder": f"/gradio_api/file={lib}/pets%00/chelsea.jpg",
        "NUL outside": "/gradio_api/file=/etc/passwd%00",
        "NUL alone": "/gradio_api/file=%00",
        "NUL, old route": f"/gradio_api/file/{lib}/%00.jpg",
        "NUL, relative": "/gradio_api/file=%00/../x.jpg",
        "self loop in the library": f"/gradio_api/file={lib}/loop.jpg",
        "two-link loop in the library": f"/gradio_api/file={lib}/loop-a/x.jpg",
        "self loop outside": f"/gradio_api/file={out}/loop.jpg",
        "two-link loop outside": f"/gradio_api/file={out}/loop-a/x.jpg",
    }
    with server_log() as log:
        answers = {name: get(site["port"], path)[0] for name, path in requests.items()}
    assert all(400 <= status < 500 for status in answers.values()), answers
    assert not [line for line in log if "Traceback" in line or "Exception in ASGI" in line], log


# -- glimpse's own temporary folder --------------------------------------------------------------------------
def test_the_app_has_a_private_temporary_folder(site, tiny_models):
    import httpx
    from glimpse.ui import tempdir
    from glimpse.ui.app import build_app
    from glimpse.ui.library import Library

    temp = Path(site["demo"].GRADIO_CACHE)
    assert temp.parent == Path(os.environ["GLIMPSE_TEMP_DIR"]) and os.environ["GRADIO_TEMP_DIR"] == str(temp)
    assert temp.stat().st_mode & 0o777 == 0o700 and temp.stat().st_uid == os.getuid()
    small = (DATA / "pets" / "chelsea.jpg").read_bytes()
    response = httpx.post(f"{site['url']}gradio_api/upload", files={"files": ("ok.jpg", small, "image/jpeg")})
    (stored,) = response.json()
    assert Path(stored).is_relative_to(temp) and get(site["port"], f"/gradio_api/file={stored}")[0] == 200

    # what other apps leave in the machine's shared Gradio folder, or Gradio's examples cache, is not served
    shared = Path(tempfile.gettempdir()) / "gradio" / "glimpse-test-other-app"
    shared.mkdir(parents=True, exist_ok=True)
    shutil.copy(DATA / "pets" / "chelsea.jpg", shared / "theirs.jpg")
    (shared / "theirs.txt").write_text(SECRET)
    try:
        for name in ("theirs.jpg", "theirs.txt"):
            status, _, body = get(site["port"], f"/gradio_api/file={shared / name}")
            assert status == 403 and SECRET.encode() not in body and body[:2] != b"\xff\xd8", name
    finally:
        shutil.rmtree(shared)
    assert get(site["port"], f"/gradio_api/file={REPO}/.gradio/cached_examples/x.jpg")[0] == 403

    # thumbnails live there too; another index gets another folder
    other = Library(site["index"], tiny_models)
    build_app(other)
    assert (temp / "thumbs").is_dir() and (temp / "thumbs").stat().st_mode & 0o777 == 0o700
    assert tempdir.for_index(site["library"] / "another-index") not in (temp, temp.parent)
    tempdir.use(temp)  # as it was for the running app

    # a temporary folder that is a link (someone else's trap) is refused
    trap = temp.parent / "trap"
    if not trap.is_symlink():
        trap.symlink_to(site["outside"], target_is_directory=True)
    with pytest.raises(tempdir.UnsafeTempFolder):
        tempdir.private(trap)


# -- ids and pages out of range ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("api", "data", "message"),
    [
        ("similar", [10**30, None, 3], "no photo with id 1000000000000000000000000000000"),
        ("similar", [2**63, None, 3], "ids are whole numbers from 1 to 9223372036854775807"),
        ("similar", [-3, None, 3], "no photo with id -3"),
        ("similar", [1e30, None, 3], "ids are whole numbers"),
        ("search", ["cat", float("nan"), "", "", "", ""], "k must be a whole number"),
    ],
)
def test_ids_and_counts_out_of_range_get_a_clear_error(site, api, data, message):
    import httpx

    call = httpx.post(f"{site['url']}gradio_api/call/{api}", content=json.dumps({"data": data}),
                      headers={"content-type": "application/json"})  # fmt: skip
    stream = httpx.get(f"{site['url']}gradio_api/call/{api}/{call.json()['event_id']}", timeout=30).text
    assert "event: error" in stream and message in stream, stream


def test_library_rules_for_ids_and_pages(site, run_cli):
    from glimpse.indexer.errors import InvalidArgument, NotInIndex

    library = site["app_library"]
    for bad in (10**30, 2**63, -1, 0, "99999999999999999999999", 2.5, float("nan"), float("inf")):
        with pytest.raises(NotInIndex, match="ids are whole numbers"):
            library.similar(bad)
    for bad in (float("nan"), float("inf"), 2.5, "two"):
        with pytest.raises(InvalidArgument, match="not a page number"):
            library.page(bad)
    assert library.page(10**30).number == library.page(1).pages  # past the end: the last page
    code, out, err = run_cli("similar", "99999999999999999999999", "--index", site["index"])
    assert code == 1 and "ids are whole numbers" in err and "Traceback" not in err + out


# -- wrong passwords -----------------------------------------------------------------------------------------
def test_repeated_wrong_passwords_are_slowed_down(site, tiny_models, tmp_path):
    import httpx
    from glimpse.ui.app import build_app
    from glimpse.ui.library import Library

    app_library = Library(site["index"], tiny_models)
    demo = build_app(app_library, thumbs_dir=tmp_path / "thumbs")
    with serving(demo, app_library, auth=("ann", "s3cret:pass")) as url:

        def login(password: str) -> httpx.Response:
            return httpx.post(f"{url}login", data={"username": "ann", "password": password})

        assert [login(f"guess-{n}").status_code for n in range(10)] == [400] * 10
        started = time.monotonic()
        refused = login("guess-10")
        assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
        assert login("s3cret:pass").status_code == 429  # not even checked while the client must wait
        while (answer := login("s3cret:pass")).status_code == 429:
            assert time.monotonic() - started < 5
            time.sleep(0.2)
        assert answer.status_code == 200 and time.monotonic() - started >= 0.9
        assert [login(f"again-{n}").status_code for n in range(10)] == [400] * 10  # a login cleared the count


def test_the_login_throttle_is_bounded():
    from glimpse.ui.gate import LoginThrottle

    throttle = LoginThrottle(app=None, clients=100)
    for n in range(1000):
        throttle._note(f"10.0.{n // 256}.{n % 256}", 10, time.monotonic() + 60)
    assert len(throttle.failures) == 100 and "10.0.3.231" in throttle.failures  # the latest kept
    assert throttle.delay(9) == 0 and throttle.delay(10) == 1 and throttle.delay(11) == 2 and throttle.delay(99) == 60
