"""The safety gates of the `gates` stage (DESIGN.md 4.8): eval contamination, probe coverage, poisoning,
drift against the previous snapshot, and conservation of the fate ledger.

Each gate module has a pydantic `Settings` (its section of params.yaml `gates:`) and a `check`
returning a `report.GateResult`; gates that remove rows (contamination, coverage) also return those
rows, identified by `ROW`, the example's position in the stage's input.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from corpus.settings import Settings, parse_section

ROW = "_row"


class GateSettings(Settings):
    """A gate's section, `gates.<gate>:` in params.yaml."""


GateSettingsT = TypeVar("GateSettingsT", bound=GateSettings)


def parse_settings(model: type[GateSettingsT], gates_params: Mapping[str, Any], gate: str) -> GateSettingsT:
    return parse_section(model, gates_params.get(gate), f"gates.{gate}")
