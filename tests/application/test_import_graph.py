"""No module of caseledger imports, directly or through others, a module that imports it back:
each can be read, tested and moved on its own. (``lint-imports`` keeps the layers; this keeps
the rooms within them apart.) And ``lint-imports``' contracts about ``api`` name every module of
``api``: one they do not list is not checked by them."""

from __future__ import annotations

import pkgutil
import tomllib
from pathlib import Path

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


def contract_sources(name: str) -> set[str]:
    """The source modules of the import-linter contract ``name`` in pyproject.toml."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    (contract,) = [c for c in config["tool"]["importlinter"]["contracts"] if c["name"] == name]
    return set(contract["source_modules"])


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
