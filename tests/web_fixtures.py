"""Fixtures of the web tests (load with `pytest_plugins = ["web_fixtures"]`; never import it directly):
the scene of `web_helpers.build_scene`, once per module, and a live server on loopback."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from web_helpers import Scene, build_scene, web_app
from werkzeug.serving import make_server


@pytest.fixture(scope="module")
def scene(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scene]:
    built = build_scene(tmp_path_factory.mktemp("web") / "demo")
    yield built
    built.engine.dispose()




@pytest.fixture(scope="module")
def live_server(scene: Scene) -> Iterator[str]:
    """The app (API, portal, console) served on loopback by werkzeug in a thread; its base URL."""
    app = web_app(scene, WEB_SIGN_IN_RATE_PER_ADDRESS="1000/minute")  # all tests sign in from 127.0.0.1
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(10)
    app.extensions["aiguillage.database"].engine.dispose()
