"""One `serve --simulate` process for the local host tests."""

from __future__ import annotations

import pytest

from tests.localhost.process import Served, serve_simulated


@pytest.fixture(scope="session")
def served_process(tmp_path_factory) -> Served:
    with serve_simulated(tmp_path_factory.mktemp("serve")) as served:
        yield served
