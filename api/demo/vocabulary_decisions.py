"""The Danish texts of the demo's decisions: why a supplier was chosen or passed over, why a price,
an extension, an adjustment or a closure."""

from __future__ import annotations

MATCH_RATIONALES = (
    "Leverandøren har den faglighed, sagen kræver, og kan starte inden for den ønskede tid.",
    "Bedste samlede match på faglighed og pris; leverandøren har ledig kapacitet.",
    "Leverandøren kender familien fra et tidligere forløb, som familien har haft gode erfaringer med.",
    "Valgt ud fra erfaring med målgruppen og geografisk nærhed til familiens bopæl.",
    "Leverandøren har de kompetencer, handleplanen peger på, til en pris under gennemsnittet.",
)
REMATCH_RATIONALES = (
    "Ny matchning: den først valgte leverandør kunne alligevel ikke starte til den aftalte tid.",
    "Ny matchning efter samtale med familien, der ønskede en anden leverandør.",
    "Ny matchning: den først valgte leverandør har meldt manglende kapacitet.",
)
GENERAL_CRITERIA = (
    "Kan starte inden for 14 dage",
    "Geografisk nærhed til familiens bopæl",
    "Pris inden for den forhandlede prisliste",
    "Erfaring med tværfagligt samarbejde med skole og PPR",
    "Kan levere indsatsen på familiens sprog",
)
CANDIDATE_REASONS = (
    "Ingen ledig kapacitet inden for den ønskede opstart",
    "Mangler erfaring med målgruppen",
    "Geografisk langt fra familiens bopæl",
    "Lang opstartstid (ca. seks uger)",
    "Familien har tidligere haft et forløb hos leverandøren, der ikke lykkedes",
    "Tilbuddet passer ikke til barnets alder",
)
HIGHER_PRICE_REASON = "Højere pris end den valgte leverandør for samme indsats"
ABOVE_LIST_RATIONALES = (
    "Særlig kompetence i traumebehandling er nødvendig; ingen leverandør til listepris kunne starte.",
    "Tolkebistand indgår i prisen.",
    "Akut opstart med aften- og weekendtimer; tillæg aftalt for denne sag.",
    "Øget intensitet i opstartsfasen; tillæg aftalt for sagen.",
    "Indsatsen leveres i hjemmet uden for leverandørens normale område; kørselstillæg aftalt.",
)
LIST_PRICE_RATIONALES = (
    "Pris efter gældende prisliste.",
    "Pris aftalt i overensstemmelse med rammeaftalen.",
)
DISCOUNT_RATIONALES = (
    "Rabat aftalt ved samlet køb af flere forløb hos leverandøren.",
    "Reduceret pris, da dele af forløbet foregår i gruppe.",
    "Prisen er forhandlet ned under listeprisen for denne sag.",
)
EXTENSION_RATIONALES = (
    "Opfølgning viser god progression; indsatsen forlænges for at fastholde udviklingen.",
    "Forlængelse efter statusmøde med familien og leverandøren.",
    "Målene i handleplanen er kun delvist nået; indsatsen forlænges.",
    "Forlængelse frem til overgangen til nyt skoletilbud.",
)
HOURS_RATIONALES = (
    "Øget behov efter ny underretning; timetallet justeres.",
    "Nedtrapning af timer som aftalt i handleplanen.",
    "Timetallet tilpasses efter opfølgning med familien.",
)
RATE_RATIONALES = (
    "Prisregulering i henhold til ny prisliste.",
    "Rettelse af fejlregistreret pris med tilbagevirkende kraft.",
    "Pris genforhandlet med leverandøren ved opfølgning.",
)
CLOSE_RATIONALES: dict[str, str] = {
    "goal_achieved": "Målene i handleplanen er nået; indsatsen afsluttes efter aftale med familien.",
    "planned_end": "Indsatsen er afsluttet som planlagt ved periodens udløb.",
    "need_changed": "Behovet er ændret; barnet visiteres til en anden indsats.",
    "family_declined": "Familien ønsker ikke at tage imod indsatsen.",
    "moved": "Familien er fraflyttet kommunen; sagen er overdraget til tilflytningskommunen.",
    "supplier_terminated": "Leverandøren har opsagt aftalen på grund af manglende kapacitet.",
    "rematched": "Afsluttet; der er oprettet en ny indstilling med en anden leverandør.",
    "withdrawn": "Indstillingen er trukket tilbage af sagsbehandleren.",
    "other": "Afsluttet efter samlet faglig vurdering.",
}
