"""The dashboard's Danish words: labels for groupings, units, event types, statuses, trail facts,
pricings, close reasons and integrity problems, keyed by the API's own names."""

from __future__ import annotations

from application.commands import COMMANDS

SPENDING = "Bevilget forbrug"
TOTAL = "I alt"
SUPPLIER_COLUMNS = (
    "Leverandør",
    "CVR",
    "Prislister i kraft (forhandlet, alder)",
    "Aktive henvisninger",
    "Henvisninger i alt",
    "Forpligtet forbrug",
    "Heraf i år",
)
PRICE_COLUMNS = {
    "intervention": "Indsats",
    "unit": "Enhed",
    "agreed": "Aftalte priser",
    "listed": "Listepriser",
    "distribution": "Fordeling",
}
STATISTICS = (("Antal", "count"), ("Min.", "money"), ("Median", "money"), ("Maks.", "money"))
TRAIL_LIST_COLUMNS = ("Henvist", "Indsats", "Lovgrundlag", "Status", "Kommune", "Forpligtet")
GROUPINGS = {
    "intervention": "Indsats",
    "supplier": "Leverandør",
    "legal_basis": "Lovgrundlag",
    "municipality": "Kommune",
    "": "Ingen (i alt)",
}
UNITS = {"hour": "time", "day": "dag", "package": "forløb"}
EVENT_TYPES = {name: command.label for name, command in COMMANDS.items() if name.startswith("referral.")}
STATUSES = {"referred": "henvist", "matched": "matchet", "active": "aktiv", "closed": "afsluttet"}
FACTS = {
    "status": "Status",
    "supplier_id": "Leverandør",
    "start": "Start",
    "end": "Slut",
    "pricing": "Prisform",
    "package_price": "Forløbspris",
    "closed_on": "Afsluttet",
    "close_reason": "Afslutningsårsag",
    "hours_per_week": "Timer pr. uge",
    "hourly_rate": "Timepris",
    "daily_rate": "Dagspris",
}
MONEY_FACTS = {"package_price", "hourly_rate", "daily_rate"}
DATE_FACTS = {"start", "end", "closed_on"}
PRICINGS = {"hourly": "timepris", "daily": "dagspris", "package": "forløbspris"}
CLOSE_REASONS = {
    "goal_achieved": "målet er nået",
    "planned_end": "planlagt afslutning",
    "need_changed": "behovet er ændret",
    "family_declined": "familien takkede nej",
    "moved": "fraflyttet kommunen",
    "supplier_terminated": "leverandøren ophørte",
    "rematched": "ny leverandør",
    "withdrawn": "trukket tilbage",
    "other": "andet",
}
INTEGRITY_PROBLEMS = {
    "altered": ("ændret", "hændelsen (type eller indhold) er ikke den, der blev registreret"),
    "deleted": ("slettet", "kæden kender hændelsen, men den er ikke længere gemt"),
    "missing": ("mangler", "en version mangler i forløbet, og dens kædeled med den"),
    "moved": ("flyttet", "hændelsen ligger et andet sted i loggen end der, hvor den blev registreret"),
    "not covered": (
        "uden kædeled",
        "hændelsen har intet kædeled: gemt før kæden fandtes eller uden om systemet",
    ),
    "chain broken": ("kæden brudt", "den samlede kæde hænger ikke sammen med rækken før denne"),
    "undecodable": ("ulæselig", "de gemte bytes kan ikke læses som en hændelse"),
}
