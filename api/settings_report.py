"""What ``caseledger config`` shows of the settings: each setting's effective value (secrets as
``***``) and where it came from, and ``docs/configuration.md``'s table of every setting."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from pydantic import SecretStr
from pydantic.fields import FieldInfo

from api.settings import EXAMPLES, TEST_ONLY_SETTINGS, Settings, all_settings


def _shown(name: str, value: object) -> str:
    """A setting's value as ``caseledger config`` shows it: secrets as ``***``."""
    if isinstance(value, SecretStr):
        return "***" if value.get_secret_value() else "(empty)"
    if value is None:
        return "(unset)"
    if isinstance(value, bool):
        return str(value).lower()
    if value == "":
        return "(empty)"
    if name == "database_url":
        return without_password(str(value))
    return str(value)


def without_password(url: str) -> str:
    """``url`` with its password, if any (in the user part or a ``password=`` parameter), as ``***``."""
    parts = urlsplit(url)
    if parts.password is not None:
        user, _, host = parts.netloc.rpartition("@")
        parts = parts._replace(netloc=f"{user.partition(':')[0]}:***@{host}")
    query = "&".join(
        f"{name}=***" if name.lower() == "password" else f"{name}{sep}{value}"
        for name, sep, value in (pair.partition("=") for pair in parts.query.split("&") if pair)
    )
    return urlunsplit(parts._replace(query=query))


@dataclass(frozen=True)
class EffectiveSetting:
    """One line of ``caseledger config``."""

    name: str
    value: str
    source: str
    """``environment`` or ``default``."""


def effective_settings(settings: Settings, environ: Mapping[str, str]) -> list[EffectiveSetting]:
    """Each setting's value in use (secrets as ``***``) and where it came from."""
    given = {name.upper() for name in environ}
    return [
        EffectiveSetting(
            setting.env_name,
            _shown(setting.key, setting.value(settings)),
            "environment" if setting.env_name in given else "default",
        )
        for setting in all_settings()
    ]


def _default(field: FieldInfo) -> str:
    default = field.get_default(call_default_factory=False)
    if isinstance(default, SecretStr):
        default = default.get_secret_value()
    if default is None:
        return "unset"
    if default == "":
        return "empty"
    return str(default).lower() if isinstance(default, bool) else str(default)


def _cell(text: str) -> str:
    """Text for one cell of a Markdown table: one line, no column breaks."""
    return " ".join(text.split()).replace("|", "\\|")


def settings_table() -> str:
    """``docs/configuration.md``'s table: every setting (name, meaning, default, example), made
    from the settings class so that it cannot drift from it; the test harness's names after."""
    rows = [
        "| Name | Meaning | Default | Example |",
        "| --- | --- | --- | --- |",
    ]
    for setting in all_settings():
        meaning = _cell(setting.field.description or "")
        example = EXAMPLES.get(setting.key, "—")
        rows.append(
            f"| `{setting.env_name}` | {meaning} | `{_cell(_default(setting.field))}` | `{_cell(example)}` |"
        )
    for name, meaning in TEST_ONLY_SETTINGS.items():
        rows.append(f"| `{name}` | {_cell(meaning)} | `unset` | — |")
    return "\n".join(rows) + "\n"
