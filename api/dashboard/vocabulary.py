"""The dashboard's Danish words, in one place: the terms municipal staff use (``ORD``, the pages'
templates read them as ``ord``), the glossary that explains them, column headers shared by the pages
and their workbooks, and labels for groupings, units, event types, statuses, trail facts, pricings,
close reasons and integrity problems, keyed by the API's own names.

The API's ``referral`` is an *indstilling* (not "henvisning"), its ``matched`` status is "leverandør
valgt" (not "matchet"), a rate is a *takst*, and committed spend is *bevilget forbrug* — *disponeret*
for the months after this one — never "forpligtet forbrug", which mixes spending and commitments.
"""

from __future__ import annotations

from application.service.commands import COMMANDS
from domain.reference import load_reference

NBSP = "\u00a0"

ORD = {
    "indstilling": "indstilling",
    "indstillinger": "indstillinger",
    "indstillet": "indstillet",
    "leverandør": "leverandør",
    "leverandører": "leverandører",
    "indsats": "indsats",
    "takst": "takst",
    "takster": "takster",
    "listepris": "listepris",
    "bevilget": "bevilget forbrug",
    "disponeret": "disponeret",
}
SPENDING = "Bevilget forbrug"
TOTAL = "I alt"
GLOSSARY = (
    (
        "Indstilling",
        "Sagsbehandlerens indstilling af et barn, en ung eller en familie til en indsats efter et "
        "lovgrundlag. Den følger sagen fra indstilling over valg af leverandør og aftale om takst til "
        "afslutning.",
    ),
    ("Indsats", "Den sociale ydelse, der indstilles til, f.eks. familiebehandling eller kontaktperson."),
    ("Lovgrundlag", "Den bestemmelse i Barnets lov eller serviceloven, indsatsen gives efter."),
    ("Leverandør", "Den private eller kommunale udbyder, der leverer indsatsen."),
    (
        "Prisliste",
        "Leverandørens takster for en kommune, forhandlet på en bestemt dato. En prisliste forhandlet for "
        "mere end et år siden markeres på Overblik.",
    ),
    ("Takst", "Prisen pr. enhed — timetakst eller dagtakst — eller en samlet forløbspris."),
    ("Listepris", "Taksten på leverandørens prisliste i kraft."),
    ("Aftalt takst", "Den takst, der er aftalt for den enkelte indstilling; den kan afvige fra listeprisen."),
    (
        "Bevilget forbrug",
        "Det beløb, de aftalte takster giver over indstillingernes perioder, fordelt på måneder.",
    ),
    ("Disponeret", "Bevilget forbrug i månederne efter denne: aftalt, men endnu ikke leveret."),
    ("Aktiv indstilling", "En indstilling med aftalt takst, som ikke er afsluttet."),
    ("Revisionsspor", "En indstillings beslutninger i rækkefølge: hvad, hvornår, af hvem og hvorfor."),
    (
        "Integritetskontrol",
        "Kontrollen af, at de gemte hændelser er dem, der blev registreret: ingen ændret, ingen mangler.",
    ),
    (
        "Gennemløbstid",
        "Antal dage mellem to beslutninger i en indstilling: fra indstillet til leverandør valgt, fra "
        "leverandør valgt til takst aftalt og fra takst aftalt til start. Praksis viser medianen og 90 %: "
        "ni ud af ti var hurtigere eller lige så hurtige.",
    ),
    (
        "Kandidat",
        "En leverandør med en takst eller et forløb for indstillingens indsats i kraft i kommunen. Match "
        "giver hver kandidat point for faglig match (40), pris mod medianen (25), kapacitet (15) og "
        "erfaring fra afsluttede indstillinger (20), med begrundelsen.",
    ),
)
SUPPLIER_COLUMNS = (
    "Leverandør",
    "CVR",
    "Prislister i kraft (forhandlet, alder)",
    "Aktive indstillinger",
    "Indstillinger i alt",
    "Bevilget forbrug",
    "Heraf i år",
)
PRICE_COLUMNS = {
    "intervention": "Indsats",
    "unit": "Enhed",
    "agreed": "Aftalte takster",
    "listed": "Listepriser",
    "distribution": "Fordeling",
}
STATISTICS = (("Antal", "count"), ("Min.", "money"), ("Median", "money"), ("Maks.", "money"))
TRAIL_LIST_COLUMNS = ("Indstillet", "Leverandør", "Indsats", "Lovgrundlag", "Status", "Kommune", "Bevilget")
# How Forbrug writes amounts: (label, the workbook's number format). The workbook's cells keep the
# exact amount; a "," at the end of a number format shows it in thousands.
AMOUNTS = {
    "ore": ("kroner og øre", '#,##0.00 "kr."'),
    "kr": ("hele kroner", '#,##0 "kr."'),
    "tkr": ("tusind kroner (t.kr.)", '#,##0, "t.kr."'),
}
TOP_CHOICES = {"": "alle", "10": "10 største", "25": "25 største", "50": "50 største"}
"""Forbrug's "Rækker": how many keys get a row of their own; the rest are gathered as "Øvrige"."""
OTHERS = "Øvrige"
GROUPINGS = {
    "intervention": "Indsats",
    "supplier": "Leverandør",
    "legal_basis": "Lovgrundlag",
    "municipality": "Kommune",
    "": "Ingen (i alt)",
}
GROUPING_PLURALS = {
    "intervention": "indsatser",
    "supplier": "leverandører",
    "legal_basis": "lovgrundlag",
    "municipality": "kommuner",
    "": "rækker",
}
"""What the rows of each grouping are, in the plural: "I alt (alle leverandører)" under a paged table."""
UNITS = {"hour": "time", "day": "dag", "package": "forløb"}
# The Danish labels the commands declare (application.service.commands).
EVENT_TYPES = {name: command.label for name, command in COMMANDS.items() if name.startswith("referral.")}
STATUSES = {"referred": "indstillet", "matched": "leverandør valgt", "active": "aktiv", "closed": "afsluttet"}
# In the order a trail's changes are listed: what, who, how priced, when, how much, how it ended.
FACTS = {
    "status": "Status",
    "supplier_id": "Leverandør",
    "pricing": "Prisform",
    "start": "Start",
    "end": "Slut",
    "hours_per_week": "Timer pr. uge",
    "hourly_rate": "Timetakst",
    "daily_rate": "Dagtakst",
    "package_price": "Forløbspris",
    "closed_on": "Afsluttet",
    "close_reason": "Afslutningsårsag",
}
MONEY_FACTS = {"package_price", "hourly_rate", "daily_rate"}
DATE_FACTS = {"start", "end", "closed_on"}
PRICINGS = {"hourly": "timetakst", "daily": "dagtakst", "package": "forløbspris"}
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
LAWS = {"BL": "Barnets lov", "SEL": "Serviceloven"}


def legal_basis_name(code: str | None) -> str:
    """A legal basis as a caseworker cites it: ``BL-32-1-7`` → ``Barnets lov § 32, stk. 1, nr. 7``
    (a code the reference data does not know stays as it is)."""
    basis = load_reference().legal_bases.get(code or "")
    if basis is None:
        return code or "–"
    parts = [f"{LAWS.get(basis.law, basis.law)} §{NBSP}{basis.section}"]
    if basis.subsection:
        parts.append(f"stk.{NBSP}{basis.subsection}")
    if basis.number:
        parts.append(f"nr.{NBSP}{basis.number}")
    return ", ".join(parts)


def legal_basis_title(code: str | None) -> str:
    """What the legal basis grants, in Danish (``Støtteophold``); empty for an unknown code."""
    basis = load_reference().legal_bases.get(code or "")
    return basis.title_da if basis else ""


def legal_basis_label(code: str | None) -> str:
    """The name with what it grants: ``Barnets lov § 32, stk. 1, nr. 7 (Støtteophold)``."""
    title = legal_basis_title(code)
    return f"{legal_basis_name(code)} ({title})" if title else legal_basis_name(code)


# Praksis (the practice report): its groupings, lead times and columns.
PRACTICE_BY = {
    "month": "Måned",
    "intervention": "Indsats",
    "supplier": "Leverandør",
    "legal_basis": "Lovgrundlag",
}
PRACTICE_LEAD_TIMES = {
    "referred_to_matched": "Indstillet til leverandør valgt",
    "matched_to_agreed": "Leverandør valgt til takst aftalt",
    "agreed_to_start": "Takst aftalt til start",
}
PRACTICE_COLUMNS = {
    "referred": "Indstillet",
    "matched": "Leverandør valgt",
    "agreed": "Takst aftalt",
    "closed": "Afsluttet",
    "rematched_share": "Andel med ny leverandør",
    "extended_share": "Andel forlænget",
    "above_list_share": "Andel over listepris",
    "mean_extension_days": "Forlængelse, gns. dage",
    "adjustments_per_referral": "Ændringer pr. aftalt indstilling",
    "close_reasons": "Afslutningsårsager",
}
# Match (a referral's candidates): its columns and words.
CANDIDATE_COLUMNS = {
    "referral": "indstilling",
    "rank": "Nr.",
    "supplier": "Leverandør",
    "score": "Point (af 100)",
    "fit": "Faglig match",
    "rate": "Takst",
    "vs_median": "Takst mod median",
    "load": "Belastning (timer pr. uge)",
    "record": "Erfaring i kommunen",
    "reasons": "Begrundelse",
}
