"""Fixtures for a local Sigstore instance on 127.0.0.1 (TEST AND DEMO TRUST ONLY).

Register with `pytest_plugins = ["tests.plugins.sigstore_local"]` in tests/conftest.py.

- `local_sigstore`: one running `LocalSigstore` per test session (per xdist worker).
- `local_sigstore_factory`: starts extra, independent instances (e.g. a second trust root);
  all are stopped when the test ends.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from corpus.sigstore_local import LocalSigstore


@pytest.fixture(scope="session")
def local_sigstore() -> Iterator[LocalSigstore]:
    with LocalSigstore() as instance:
        yield instance


@pytest.fixture
def local_sigstore_factory() -> Iterator[Callable[[], LocalSigstore]]:
    started: list[LocalSigstore] = []

    def start() -> LocalSigstore:
        instance = LocalSigstore()
        instance.start()
        started.append(instance)
        return instance

    yield start
    for instance in started:
        instance.stop()
