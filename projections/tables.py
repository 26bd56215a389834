"""Table definitions of the read models. Every generation (a rebuild builds the next one beside the
live one) has its own tables, suffixed ``_g<N>``; ``cl_generations`` says which one is live and how
far each has processed the notification log."""

from __future__ import annotations

MODELS_VERSION = 11
"""Raise when a read model's tables or fold change: a live generation of an older version is rebuilt
(beside, then switched) when the runner starts. (4: personal fields are stored sealed — the
``citizen_ref`` and ``case_ref`` columns and a referral's ``rationale`` hold the events' envelopes,
opened by the application when read. 5: the spending roll-ups are keyed municipality first, and
the hours' indexes cover the supplier overview's query. 6: a decision records its decision date
and the negotiation date of the list rate it was compared with, for the price-exceptions report.
7: suppliers' profiles and capacity, and their track records, for the candidate ranking.
8: the municipalities' own costs, for the price benchmarks; a referral's decision
``referral.referred`` holds the keyed hash of its case number, for the decision search by
``case_ref``; the practice read model, ``cl_practice``, for the practice report. 9: the practice
index covers ``referred_on`` too, for the report's weekly intake. 10: the spending log, the roll-ups'
marks every ``MARK_EVERY`` positions and the suppliers' names by position, so that the spending
report known at an earlier position is read from them instead of a scratch store. 11: the recorded
times by span of positions, ``cl_recorded_spans``, which an instant is mapped to a position with.)"""

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
    "supplier_id TEXT, rationale TEXT, above_list_rate INTEGER, agreed_rate_ore BIGINT, list_rate_ore BIGINT, "
    "decided_on TEXT, list_negotiated_on TEXT, case_index TEXT)",
    "CREATE INDEX IF NOT EXISTS cl_decisions_g{g}_municipality ON cl_decisions_g{g} (municipality, effective_date)",
    "CREATE INDEX IF NOT EXISTS cl_decisions_g{g}_actor ON cl_decisions_g{g} (actor_id, effective_date)",
    "CREATE INDEX IF NOT EXISTS cl_decisions_g{g}_supplier ON cl_decisions_g{g} (supplier_id, effective_date)",
    # The price-exceptions report: the few decisions above the list rate, by municipality and decision date.
    "CREATE INDEX IF NOT EXISTS cl_decisions_g{g}_above ON cl_decisions_g{g} (municipality, decided_on) "
    "WHERE above_list_rate = 1",
    # The search by case number: the few rows (one per referral) that hold a case index.
    "CREATE INDEX IF NOT EXISTS cl_decisions_g{g}_case ON cl_decisions_g{g} (case_index) "
    "WHERE case_index IS NOT NULL",
]

# Monthly spend rolled up by municipality and one dimension, kept current with deltas as batches are
# folded, so the spending report and the overview add up hundreds of rows instead of millions. Keyed
# municipality first: most reports are one municipality's (its months, or all of them).
SPENDING_ROLLUPS: dict[str, tuple[str, ...]] = {
    "cl_spend_total": (),
    "cl_spend_supplier": ("supplier_id",),
    "cl_spend_intervention": ("intervention",),
    "cl_spend_legal_basis": ("legal_basis",),
}
for _name, _dims in SPENDING_ROLLUPS.items():
    _columns = "".join(f"{dim} TEXT NOT NULL, " for dim in _dims)
    _key = ", ".join(("municipality", "month", *_dims))
    MODELS.append(
        f"CREATE TABLE IF NOT EXISTS {_name}_g{{g}} (month TEXT NOT NULL, municipality TEXT NOT NULL, "
        f"{_columns}amount_ore BIGINT NOT NULL, PRIMARY KEY ({_key}))"
    )

# Knowledge time (docs/knowledge-time.md, ``projections.spending_log``): every change of a
# referral's monthly spend, keyed by the position of the event that made it, and the spending
# roll-ups as they stood every ``MARK_EVERY`` positions (``dimension`` names the roll-up's column,
# '' for the total; ``key`` its value). The log's index covers the read of one municipality's
# changes between two positions.
MODELS += [
    "CREATE TABLE IF NOT EXISTS cl_spend_log_g{g} (municipality TEXT NOT NULL, position BIGINT NOT NULL, "
    "month TEXT NOT NULL, supplier_id TEXT NOT NULL, intervention TEXT NOT NULL, legal_basis TEXT NOT NULL, "
    "amount_ore BIGINT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS cl_spend_log_g{g}_at ON cl_spend_log_g{g} "
    "(municipality, position, month, supplier_id, intervention, legal_basis, amount_ore)",
    "CREATE TABLE IF NOT EXISTS cl_spend_marks_g{g} (position BIGINT NOT NULL, dimension TEXT NOT NULL, "
    "municipality TEXT NOT NULL, month TEXT NOT NULL, key TEXT NOT NULL, amount_ore BIGINT NOT NULL, "
    "PRIMARY KEY (position, dimension, municipality, month, key))",
    # A supplier's name from each position on (registered, renamed): the report names suppliers as then.
    "CREATE TABLE IF NOT EXISTS cl_supplier_names_g{g} (supplier_id TEXT NOT NULL, position BIGINT NOT NULL, "
    "name TEXT NOT NULL, PRIMARY KEY (supplier_id, position))",
]

# Knowledge time by instant (``projections.recorded_times``): per span of ``SPAN`` positions, its
# last event and the latest time recorded up to it (a running maximum); the index finds the first
# span whose maximum is after an instant.
MODELS += [
    "CREATE TABLE IF NOT EXISTS cl_recorded_spans_g{g} (span BIGINT PRIMARY KEY, last_position BIGINT NOT NULL, "
    "recorded_max BIGINT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS cl_recorded_spans_g{g}_max ON cl_recorded_spans_g{g} (recorded_max, span)",
]

MODELS += [
    # Hours per week of hourly referrals, one row per step, valid from..to within the spending period.
    "CREATE TABLE IF NOT EXISTS cl_hours_g{g} ("
    "referral_id TEXT NOT NULL, from_date TEXT NOT NULL, to_date TEXT NOT NULL, municipality TEXT NOT NULL, "
    "supplier_id TEXT, hours_centi BIGINT NOT NULL, PRIMARY KEY (referral_id, from_date))",
    # Covering the supplier overview's sum of the hours in force (read from the index alone).
    "CREATE INDEX IF NOT EXISTS cl_hours_g{g}_current ON cl_hours_g{g} "
    "(municipality, to_date, from_date, supplier_id, hours_centi)",
    "CREATE INDEX IF NOT EXISTS cl_hours_g{g}_to ON cl_hours_g{g} (to_date, from_date, supplier_id, hours_centi)",
    # How many referrals each supplier has per municipality and status.
    "CREATE TABLE IF NOT EXISTS cl_caseload_g{g} ("
    "supplier_id TEXT NOT NULL, municipality TEXT NOT NULL, status TEXT NOT NULL, n BIGINT NOT NULL, "
    "PRIMARY KEY (supplier_id, municipality, status))",
    # Agreed rates as counts per value, enough for exact quartiles without reading every agreement.
    "CREATE TABLE IF NOT EXISTS cl_agreed_rates_g{g} ("
    "municipality TEXT NOT NULL, intervention TEXT NOT NULL, unit TEXT NOT NULL, rate_ore BIGINT NOT NULL, "
    "n BIGINT NOT NULL, PRIMARY KEY (municipality, intervention, unit, rate_ore))",
    "CREATE INDEX IF NOT EXISTS cl_referrals_g{g}_status ON cl_referrals_g{g} (municipality, status, referred_on)",
    # The practice report: one row per referral with its lead times in days and counts, by referral month.
    "CREATE TABLE IF NOT EXISTS cl_practice_g{g} ("
    "referral_id TEXT PRIMARY KEY, municipality TEXT NOT NULL, intervention TEXT NOT NULL, "
    "legal_basis TEXT NOT NULL, supplier_id TEXT, month TEXT NOT NULL, referred_on TEXT NOT NULL, "
    "matched_on TEXT, matches INTEGER NOT NULL, agreed_on TEXT, to_matched INTEGER, to_agreed INTEGER, "
    "to_start INTEGER, extensions INTEGER NOT NULL, "
    "extension_days INTEGER NOT NULL, adjustments INTEGER NOT NULL, above_list INTEGER NOT NULL, "
    "closed_on TEXT, close_reason TEXT)",
    # Covering the report's one statement (read from the index alone).
    "CREATE INDEX IF NOT EXISTS cl_practice_g{g}_month ON cl_practice_g{g} (municipality, month, supplier_id, "
    "intervention, legal_basis, matches, to_matched, to_agreed, to_start, extensions, extension_days, "
    "adjustments, above_list, close_reason, referred_on)",
    # A municipality's own costs: the latest record per intervention, unit and valid-from date.
    "CREATE TABLE IF NOT EXISTS cl_own_costs_g{g} ("
    "municipality TEXT NOT NULL, intervention TEXT NOT NULL, unit TEXT NOT NULL, valid_from TEXT NOT NULL, "
    "rate_ore BIGINT NOT NULL, version INTEGER NOT NULL, PRIMARY KEY (municipality, intervention, unit, valid_from))",
]

MODELS += [
    # What each supplier offers (JSON lists of labels) and the hours a week it says it can take on.
    "CREATE TABLE IF NOT EXISTS cl_supplier_profiles_g{g} ("
    "supplier_id TEXT PRIMARY KEY, target_groups TEXT NOT NULL, competencies TEXT NOT NULL, "
    "education_levels TEXT NOT NULL, capacity_centi BIGINT)",
    # Track records: how a supplier's referrals in a municipality ended, and for how many days
    # its measures ran (counts per value, enough for an exact median).
    "CREATE TABLE IF NOT EXISTS cl_record_outcomes_g{g} ("
    "supplier_id TEXT NOT NULL, municipality TEXT NOT NULL, outcome TEXT NOT NULL, n BIGINT NOT NULL, "
    "PRIMARY KEY (supplier_id, municipality, outcome))",
    "CREATE TABLE IF NOT EXISTS cl_record_days_g{g} ("
    "supplier_id TEXT NOT NULL, municipality TEXT NOT NULL, days INTEGER NOT NULL, n BIGINT NOT NULL, "
    "PRIMARY KEY (supplier_id, municipality, days))",
]

MODEL_TABLES = (
    "cl_referrals",
    "cl_spending",
    "cl_suppliers",
    "cl_list_rates",
    "cl_decisions",
    *SPENDING_ROLLUPS,
    "cl_hours",
    "cl_caseload",
    "cl_agreed_rates",
    "cl_supplier_profiles",
    "cl_record_outcomes",
    "cl_record_days",
    "cl_own_costs",
    "cl_practice",
    "cl_spend_log",
    "cl_spend_marks",
    "cl_supplier_names",
    "cl_recorded_spans",
)

UPDATED_IN_PLACE = (
    "cl_referrals",
    *SPENDING_ROLLUPS,
    "cl_caseload",
    "cl_agreed_rates",
    "cl_record_outcomes",
    "cl_record_days",
    "cl_practice",
)
"""Tables whose rows the live projections update again and again (the others get inserts and deletes)."""
FILLFACTOR = 70
"""On PostgreSQL those tables' pages are left 30 % free, so that an update that changes no indexed
column can stay on its page (a HOT update) and write no index entries."""


def model_statements(generation: int, *, indexes: bool = True) -> list[str]:
    """DDL for one generation's tables (with their secondary indexes, unless ``indexes`` is false)."""
    return [
        statement.format(g=int(generation))
        for statement in MODELS
        if indexes or not statement.startswith("CREATE INDEX")
    ]


def index_statements(generation: int) -> list[str]:
    """DDL for one generation's secondary indexes (a bulk build adds them once its rows are in)."""
    return [
        statement.format(g=int(generation)) for statement in MODELS if statement.startswith("CREATE INDEX")
    ]


def index_statements_by_table(generation: int) -> dict[str, list[str]]:
    """``index_statements`` per read model (``MODEL_TABLES``), for the table each is on."""
    statements = index_statements(generation)
    return {
        name: [statement for statement in statements if f" ON {table(name, generation)} (" in statement]
        for name in MODEL_TABLES
    }


def drop_statements(generation: int) -> list[str]:
    """DDL that removes one generation's tables."""
    return [f"DROP TABLE IF EXISTS {name}_g{int(generation)}" for name in MODEL_TABLES]


def table(name: str, generation: int) -> str:
    """The name of a read model's table in a generation."""
    assert name in MODEL_TABLES
    return f"{name}_g{int(generation)}"
