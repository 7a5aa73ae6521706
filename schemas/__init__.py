"""Pandera (polars) models: one module per stage boundary. These are the data contracts.

Importing this package loads pandera without its pandas layer. `import pandera` imports pandas and
pandera's pandas engine whenever pandas is installed (the test extra brings it in), which costs
~0.5 s per process; every stage runs as its own process, once per batch for the per-batch stages,
so at 10 batches that is ~20 s of a 1M-row `dvc repro` spent loading a library no stage uses.
pandera supports polars-only installs: when `import pandas` fails with "No module named 'pandas'"
it skips the pandas layer. We make it fail that way only while pandera itself is being imported
(pandas stays importable for everything else), and fall back to a plain import if a pandera
release stops accepting that.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
from collections.abc import Sequence
from types import ModuleType


class _HidePandas(importlib.abc.MetaPathFinder):
    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname == "pandas" or fullname.startswith("pandas."):
            raise ModuleNotFoundError(f"No module named {fullname!r}", name=fullname)
        return None


def _look_for_pandas_types_now() -> None:
    """pandera also tries `import pandas` at the first validation, once per process (cached): make
    that attempt happen while pandas is hidden, or the first validation pays the ~0.5 s."""
    try:
        from pandera.backends import register_checks
    except ImportError:
        return
    look = getattr(register_checks, "_load_get_backend_types_from_mro", None)
    if callable(look):
        look()


def _import_pandera_polars() -> None:
    if "pandera" in sys.modules:
        return
    hide = _HidePandas()
    sys.meta_path.insert(0, hide)
    try:
        import pandera.errors
        import pandera.polars  # noqa: F401
    except ImportError:
        for name in [n for n in sys.modules if n == "pandera" or n.startswith("pandera.")]:
            del sys.modules[name]
    else:
        _look_for_pandas_types_now()
    finally:
        sys.meta_path.remove(hide)
    import pandera.errors
    import pandera.polars  # noqa: F401


_import_pandera_polars()

from pandera.errors import SchemaError, SchemaErrors  # noqa: E402

__all__ = ["SchemaError", "SchemaErrors"]
