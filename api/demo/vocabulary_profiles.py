"""The kinds of supplier in the demo municipality: what each offers, whom it serves, who works there
and what it is called. The vocabulary itself is data, in vocabulary_profiles.json beside this file."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Profile:
    """A kind of supplier: what it offers, whom it serves, who works there, what it is called."""

    weight: int
    interventions: dict[str, int]
    target_groups: tuple[str, ...]
    competencies: tuple[str, ...]
    education_levels: tuple[str, ...]
    stems: tuple[str, ...]
    centre_topics: tuple[str, ...]
    trades: tuple[str, ...]

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Profile:
        words = {key: tuple(value) for key, value in data.items() if isinstance(value, list)}
        return cls(weight=int(data["weight"]), interventions=dict(data["interventions"]), **words)


def _load() -> dict[str, Profile]:
    text = (Path(__file__).parent / "vocabulary_profiles.json").read_text(encoding="utf-8")
    return {kind: Profile.from_json(data) for kind, data in json.loads(text).items()}


PROFILES: dict[str, Profile] = _load()
