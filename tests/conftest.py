"""Test-wide environment: isolated DVC site cache, git identity, no analytics, and shared fixtures."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]

pytest_plugins = ["tests.plugins.sigstore_local", "tests.s3servers"]


@pytest.fixture(autouse=True, scope="session")
def _isolated_tool_environment(tmp_path_factory: pytest.TempPathFactory) -> None:
    site_cache = tmp_path_factory.mktemp("dvc-site-cache")
    os.environ["DVC_SITE_CACHE_DIR"] = str(site_cache)
    os.environ["DVC_NO_ANALYTICS"] = "1"
    os.environ.setdefault("GIT_AUTHOR_NAME", "corpus-tests")
    os.environ.setdefault("GIT_AUTHOR_EMAIL", "tests@corpus.invalid")
    os.environ.setdefault("GIT_COMMITTER_NAME", os.environ["GIT_AUTHOR_NAME"])
    os.environ.setdefault("GIT_COMMITTER_EMAIL", os.environ["GIT_AUTHOR_EMAIL"])
    os.environ.pop("CORPUS_REPO", None)
    # Stage commands say `python scripts/...` and tests call `dvc`: both must be this environment's.
    venv_bin = str(Path(sys.executable).parent)
    if not os.environ.get("PATH", "").startswith(venv_bin + os.pathsep):
        os.environ["PATH"] = venv_bin + os.pathsep + os.environ.get("PATH", "")
