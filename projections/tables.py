"""Table definitions of the read models. Every generation (a rebuild builds the next one beside the
live one) has its own tables, suffixed ``_g<N>``; ``cl_generations`` says which one is live and how
far each has processed the notification log."""

from __future__ import annotations

MODELS_VERSION = 2
"""Raise when a read model's tables or fold change: a live generation of an older version is rebuilt
(beside, then switched) when the runner starts."""

CONTROL = [
    "CREATE TABLE IF NOT EXISTS cl_generations ("
    "generation INTEGER PRIMARY KEY, position BIGINT NOT NULL, live INTEGER NOT NULL, created_at TEXT NOT NULL, "
    "models_version INTEGER NOT NULL DEFAULT 1)",
]

MODELS = [
    "CREATE TABLE IF NOT EXISTS cl_referrals_g{g} ("
    "referral_id TEXT PRIMARY KEY, version INTEGER NOT NULL, position BIGINT NOT NULL, "
    "municipality TEXT NOT NULL, citizen_ref TEXT NOT NULL, case_ref TEXT, legal_basis TEXT NOT NULL, "
    "intervention TEXT NOT NULL, status TEXT NOT NULL, supplier_id TEXT, kind TEXT, unit TEXT, "
    "agreed_rate_ore BIGINT, list_rate_ore BIGINT, start_date TEXT, end_date TEXT, closed_on TEXT, "
    "close_reason TEXT, referred_on TEXT NOT NULL, committed_total_ore BIGINT NOT NULL, terms TEXT)",
    "CREATE INDEX IF NOT EXISTS cl_referrals_g{g}_municipality ON cl_referrals_g{g} (municipality, referred_on)",
    "CREATE INDEX IF NOT EXISTS cl_referrals_g{g}_supplier ON cl_referrals_g{g} (supplier_id, status)",
    "CREATE TABLE IF NOT EXISTS cl_spending_g{g} ("
    "referral_id TEXT NOT NULL, month TEXT NOT NULL, amount_ore BIGINT NOT NULL, municipality TEXT NOT NULL, "
    "supplier_id TEXT, intervention TEXT NOT NULL, legal_basis TEXT NOT NULL, PRIMARY KEY (referral_id, month))",
    "CREATE INDEX IF NOT EXISTS cl_spending_g{g}_month ON cl_spending_g{g} (month, municipality)",
    "CREATE INDEX IF NOT EXISTS cl_spending_g{g}_supplier ON cl_spending_g{g} (supplier_id, month)",
    "CREATE TABLE IF NOT EXISTS cl_suppliers_g{g} ("
    "supplier_id TEXT PRIMARY KEY, version INTEGER NOT NULL, name TEXT NOT NULL, cvr TEXT NOT NULL, "
    "contact TEXT NOT NULL, price_lists TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS cl_list_rates_g{g} ("
    "supplier_id TEXT NOT NULL, list_no INTEGER NOT NULL, municipality TEXT NOT NULL, intervention TEXT NOT NULL, "
    "unit TEXT NOT NULL, rate_ore BIGINT NOT NULL, negotiated_on TEXT NOT NULL, valid_from TEXT NOT NULL, "
    "valid_to TEXT, PRIMARY KEY (supplier_id, list_no, intervention, unit))",
]

MODELS += [
    "CREATE TABLE IF NOT EXISTS cl_decisions_g{g} ("
    "position BIGINT PRIMARY KEY, referral_id TEXT NOT NULL, version INTEGER NOT NULL, type TEXT NOT NULL, "
    "recorded_at TEXT NOT NULL, effective_date TEXT, actor_id TEXT, actor_name TEXT, municipality TEXT NOT NULL, "
    "supplier_id TEXT, rationale TEXT, above_list_rate INTEGER, agreed_rate_ore BIGINT, list_rate_ore BIGINT)",
    "CREATE INDEX IF NOT EXISTS cl_decisions_g{g}_municipality ON cl_decisions_g{g} (municipality, effective_date)",
    "CREATE INDEX IF NOT EXISTS cl_decisions_g{g}_actor ON cl_decisions_g{g} (actor_id, effective_date)",
    "CREATE INDEX IF NOT EXISTS cl_decisions_g{g}_supplier ON cl_decisions_g{g} (supplier_id, effective_date)",
]

MODEL_TABLES = ("cl_referrals", "cl_spending", "cl_suppliers", "cl_list_rates", "cl_decisions")


def model_statements(generation: int) -> list[str]:
    """DDL for one generation's tables."""
    return [statement.format(g=int(generation)) for statement in MODELS]


def drop_statements(generation: int) -> list[str]:
    """DDL that removes one generation's tables."""
    return [f"DROP TABLE IF EXISTS {name}_g{int(generation)}" for name in MODEL_TABLES]


def table(name: str, generation: int) -> str:
    """The name of a read model's table in a generation."""
    assert name in MODEL_TABLES
    return f"{name}_g{int(generation)}"
