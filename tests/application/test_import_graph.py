"""No module of caseledger imports, directly or through others, a module that imports it back:
each can be read, tested and moved on its own. (``lint-imports`` keeps the layers; this keeps
the rooms within them apart.)"""

from __future__ import annotations

import grimp

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
