"""Token roles and their rights, and ``Token``: what a bearer token grants, without its secret.

Roles and their rights (docs/api.md "Auth"):

- ``case_system``: every referral write, batch ingestion, referral reads, the feed
- ``caseworker``: refer, extend, adjust, close; referral reads, a referral's candidates and the
  municipality's own costs
- ``matcher``: match, agree price, suppliers, price lists and own costs (own municipality); referral
  reads, a referral's candidates and the municipality's own costs
- ``auditor``: every read (referrals, reports, audit, the access log, feed), no writes
- ``reporter``: reports only (aggregates, never ``citizen_ref`` or ``case_ref``)
- ``admin``: everything, and alone may erase a citizen's personal data

Every role may read suppliers (they are shared).
"""

from __future__ import annotations

from dataclasses import dataclass

ALL_MUNICIPALITIES = "*"

REFERRAL_WRITES = (
    "referral:refer",
    "referral:match",
    "referral:agree_price",
    "referral:extend",
    "referral:adjust",
    "referral:close",
)
READS = (
    "referral:read",
    "supplier:read",
    "report:read",
    "own_cost:read",
    "audit:read",
    "feed:read",
    "access_log:read",
)
RIGHTS: dict[str, frozenset[str]] = {
    "case_system": frozenset(
        {*REFERRAL_WRITES, "batch:write", "referral:read", "supplier:read", "feed:read"}
    ),
    "caseworker": frozenset(
        {
            "referral:refer",
            "referral:extend",
            "referral:adjust",
            "referral:close",
            "referral:read",
            "referral:candidates",
            "own_cost:read",
            "supplier:read",
        }
    ),
    "matcher": frozenset(
        {
            "referral:match",
            "referral:agree_price",
            "supplier:write",
            "price_list:write",
            "referral:read",
            "referral:candidates",
            "own_cost:read",
            "supplier:read",
        }
    ),
    "auditor": frozenset(READS),
    "reporter": frozenset({"report:read", "own_cost:read", "supplier:read"}),
    "admin": frozenset(
        {
            *REFERRAL_WRITES,
            *READS,
            "referral:candidates",
            "batch:write",
            "supplier:write",
            "price_list:write",
            "citizen:erase",
        }
    ),
}
# Every role reads the shipped reference tables.
RIGHTS = {role: rights | {"reference:read"} for role, rights in RIGHTS.items()}
ROLES = tuple(RIGHTS)


@dataclass(frozen=True)
class Token:
    """What a token grants, without its secret."""

    name: str
    role: str
    municipality: str
    created_at: str
    revoked_at: str | None = None

    def can(self, right: str) -> bool:
        return right in RIGHTS.get(self.role, frozenset())

    @property
    def all_municipalities(self) -> bool:
        return self.municipality == ALL_MUNICIPALITIES

    def sees(self, municipality: str | None) -> bool:
        """Whether this token may see or write data of ``municipality``."""
        return self.all_municipalities or municipality == self.municipality


@dataclass(frozen=True)
class IssuedToken:
    """A new token: the secret (shown once) and what it grants."""

    secret: str
    token: Token
