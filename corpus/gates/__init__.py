"""The safety gates of the `gates` stage (DESIGN.md 4.8): eval contamination, probe coverage, poisoning,
drift against the previous snapshot, and conservation of the fate ledger.

Each gate module has a pydantic `Settings` (its section of params.yaml `gates:`) and a `check`
returning a `report.GateResult`; gates that remove rows (contamination, coverage) also return those
rows, identified by `ROW`, the example's position in the stage's input.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from corpus.errors import CorpusError

ROW = "_row"


class GateSettings(BaseModel):
    # Every knob is spelt out in params.yaml; a typo or a missing key stops the stage with its name.
    model_config = ConfigDict(extra="forbid", frozen=True)


SettingsT = TypeVar("SettingsT", bound=GateSettings)


def parse_settings(model: type[SettingsT], gates_params: Mapping[str, Any], gate: str) -> SettingsT:
    section = gates_params.get(gate)
    if not isinstance(section, Mapping):
        raise CorpusError(f"params.yaml: missing section `gates.{gate}:`")
    try:
        return model.model_validate(dict(section))
    except ValidationError as exc:
        problems = "; ".join(
            f"gates.{gate}.{'.'.join(str(p) for p in item['loc'])}: {item['msg']}" for item in exc.errors()
        )
        raise CorpusError(f"params.yaml: {problems}") from None
