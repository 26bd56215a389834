"""No module of caseledger imports, directly or through others, a module that imports it back:
each can be read, tested and moved on its own. (``lint-imports`` keeps the layers; this keeps
the rooms within them apart.) Nor does a room of ``application`` (a package or a module directly
inside it) import, through others, a room that imports it back. And ``lint-imports``' contracts
about ``api`` and ``application``'s rooms name every module of each: one they do not list is not
checked by them."""

from __future__ import annotations

import pkgutil
import tomllib
from pathlib import Path
from typing import Any

import grimp

ROOT = Path(__file__).parents[2]
PACKAGES = ("domain", "application", "projections", "api")


def test_no_module_takes_part_in_an_import_cycle() -> None:
    graph = grimp.build_graph(*PACKAGES)
    cycles = sorted(
        (module, imported)
        for module in graph.modules
        for imported in graph.find_modules_directly_imported_by(module)
        if graph.chain_exists(importer=imported, imported=module, as_packages=False)
    )
    assert cycles == []


def test_no_room_of_the_application_takes_part_in_an_import_cycle() -> None:
    """Package by package: ``storage`` importing ``privacy`` while ``privacy`` imports ``storage`` is
    a cycle even when no single module of one imports a module of the other that imports it back."""
    graph = grimp.build_graph("application")
    rooms = sorted(graph.find_children("application"))
    cycles = [
        (room, other)
        for room in rooms
        for other in rooms
        if room < other
        and graph.chain_exists(importer=room, imported=other, as_packages=True)
        and graph.chain_exists(importer=other, imported=room, as_packages=True)
    ]
    assert cycles == []


def contract(name: str) -> dict[str, Any]:
    """The import-linter contract ``name`` in pyproject.toml."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    (found,) = [c for c in config["tool"]["importlinter"]["contracts"] if c["name"] == name]
    return found


def contract_sources(name: str) -> set[str]:
    """The source modules of the import-linter contract ``name``."""
    return set(contract(name)["source_modules"])


def contract_layers(name: str) -> set[str]:
    """Every module the layers of the import-linter contract ``name`` name, with their container."""
    (container,) = contract(name)["containers"]
    return {
        f"{container}.{module.strip()}"
        for layer in contract(name)["layers"]
        for module in layer.replace("|", ":").split(":")
    }


def api_submodules() -> set[str]:
    """Every module and package directly inside ``api``, found on disk (not listed by hand)."""
    return {f"api.{module.name}" for module in pkgutil.iter_modules([str(ROOT / "api")])}


def test_the_cli_contract_lists_every_api_module_but_the_cli() -> None:
    """A new module of ``api`` cannot slip past "Nothing below api imports the CLI" unlisted."""
    listed = contract_sources("Nothing below api imports the CLI")
    assert api_submodules() - {"api.cli"} - listed == set()
    assert {"domain", "application", "projections"} <= listed


def test_the_router_contract_lists_every_api_module_but_the_app_and_the_routers() -> None:
    """A new module of ``api`` cannot slip past "Only the app factory imports routers" unlisted."""
    listed = contract_sources("Only the app factory imports routers")
    assert api_submodules() - {"api.app", "api.routers"} - listed == set()


def test_the_rooms_contract_names_every_module_of_the_application() -> None:
    """A new module of ``application`` cannot stand outside the rooms' layers unchecked."""
    listed = contract_layers("Application's rooms: the service above audit and privacy, both above storage")
    on_disk = {f"application.{module.name}" for module in pkgutil.iter_modules([str(ROOT / "application")])}
    assert on_disk == listed
