"""The words and numbers the demo municipality is made of: people, supplier profiles, places,
interventions' price ranges and durations, and the Danish texts of decisions."""

from __future__ import annotations

from dataclasses import dataclass

# -- who decides ------------------------------------------------------------------------------------

CASE_WORKERS: tuple[dict[str, str], ...] = (
    {"id": "sw-0412", "name": "Mette Hansen"},
    {"id": "sw-0187", "name": "Lars Østergaard"},
    {"id": "sw-0533", "name": "Camilla Nørgaard"},
    {"id": "sw-0298", "name": "Sofie Lauridsen"},
    {"id": "sw-0641", "name": "Ahmad Rahimi"},
    {"id": "sw-0075", "name": "Pia Frandsen"},
    {"id": "sw-0359", "name": "Rikke Dahl Madsen"},
    {"id": "sw-0720", "name": "Jesper Kjær"},
    {"id": "sw-0244", "name": "Louise Bech"},
    {"id": "sw-0816", "name": "Helle Juhl Sørensen"},
)
MATCHERS: tuple[dict[str, str], ...] = (  # Match og Organisation
    {"id": "mo-0107", "name": "Jakob Lindholm"},
    {"id": "mo-0112", "name": "Anne Vestergaard"},
    {"id": "mo-0126", "name": "Karina Skov Poulsen"},
    {"id": "mo-0131", "name": "Thomas Brix"},
)

# -- suppliers -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Profile:
    """A kind of supplier: what it offers, whom it serves, who works there, what it is called."""

    weight: int
    interventions: dict[str, int]
    target_groups: tuple[str, ...]
    competencies: tuple[str, ...]
    education_levels: tuple[str, ...]
    stems: tuple[str, ...]
    centre_topics: tuple[str, ...]
    trades: tuple[str, ...]


PROFILES: dict[str, Profile] = {
    "family": Profile(
        weight=35,
        interventions={
            "family-treatment": 6,
            "child-treatment": 4,
            "consultancy": 5,
            "network-group": 3,
            "home-support": 2,
            "parent-support-person": 1,
        },
        target_groups=(
            "Familier med børn 0-5 år",
            "Børn 6-12 år",
            "Unge 13-17 år",
            "Familier med komplekse problemstillinger",
            "Børn i skilsmissefamilier",
            "Forældre med psykisk sygdom",
            "Etniske minoritetsfamilier",
        ),
        competencies=(
            "Marte Meo",
            "Narrativ familieterapi",
            "Kognitiv adfærdsterapi",
            "Mentalisering",
            "ICDP",
            "PMTO",
            "De Utrolige År",
            "Signs of Safety",
            "Traumebehandling",
            "Samspilsbehandling",
            "Forældreevneundersøgelser",
            "Tosprogede familier",
        ),
        education_levels=("familieterapeut", "psykolog", "socialrådgiver", "pædagog", "psykoterapeut MPF"),
        stems=(
            "Familiehuset",
            "Familiecentret",
            "Terapihuset",
            "Familieværkstedet",
            "Familierådgivningen",
            "Familiestøtten",
            "Børne- og Familiehuset",
        ),
        centre_topics=("Familiebehandling", "Familieterapi", "Børn og Familier", "Familie og Trivsel"),
        trades=("Familieterapi", "Psykologisk Rådgivning", "Familiekonsulent"),
    ),
    "contact": Profile(
        weight=30,
        interventions={
            "contact-person": 6,
            "home-support": 5,
            "other-help": 2,
            "parent-support-person": 2,
            "internship": 1,
            "consultancy": 1,
        },
        target_groups=(
            "Unge 13-17 år",
            "Unge 18-22 år (efterværn)",
            "Børn 6-12 år",
            "Unge med kriminel adfærd",
            "Børn med ADHD eller autisme",
            "Familier med små børn",
            "Anbragte børn og unge",
        ),
        competencies=(
            "Mentorforløb",
            "Skolevægring",
            "Low Arousal",
            "Motiverende samtale",
            "Unge og kriminalitet",
            "Netværksmøder",
            "Traumebevidst pædagogik",
            "Struktur i hverdagen",
            "Fritidsjob og foreningsliv",
            "Selvskade",
        ),
        education_levels=("pædagog", "socialrådgiver", "socialpædagog", "lærer", "socialformidler"),
        stems=(
            "Kontaktpersonkorpset",
            "Mentorhuset",
            "Brobyggerne",
            "Hjemmeindsatsen",
            "Ungeindsatsen",
            "Støttecentret",
            "Ungdomsstøtten",
        ),
        centre_topics=("Udsatte Unge", "Relationsarbejde", "Ungeliv", "Socialpædagogisk Støtte"),
        trades=("Kontaktperson", "Mentor og Coaching", "Socialpædagogisk Konsulent"),
    ),
    "residential": Profile(
        weight=15,
        interventions={
            "respite-stay": 5,
            "placement": 4,
            "family-residential": 2,
            "day-treatment": 2,
            "contact-person": 1,
        },
        target_groups=(
            "Anbragte børn og unge",
            "Unge 13-17 år",
            "Børn 6-12 år",
            "Børn med ADHD eller autisme",
            "Familier med spædbørn",
            "Unge med selvskadende adfærd",
        ),
        competencies=(
            "Miljøterapi",
            "Neuroaffektiv udviklingspsykologi",
            "Low Arousal",
            "Traumebevidst pædagogik",
            "Forældreevneundersøgelser",
            "Skole i eget regi",
            "Aflastning i weekender",
            "Døgnobservation",
        ),
        education_levels=("socialpædagog", "pædagog", "psykolog", "sygeplejerske", "lærer"),
        stems=(
            "Opholdsstedet",
            "Aflastningshjemmet",
            "Behandlingshjemmet",
            "Døgntilbuddet",
            "Familieinstitutionen",
            "Bostedet",
        ),
        centre_topics=("Døgnbehandling", "Børn og Unge", "Familiebehandling på Døgn"),
        trades=("Aflastningsfamilie", "Opholdssted"),
    ),
    "day": Profile(
        weight=10,
        interventions={"day-treatment": 5, "internship": 3, "child-treatment": 2, "other-help": 2},
        target_groups=(
            "Børn 6-12 år",
            "Unge 13-17 år",
            "Børn med ADHD eller autisme",
            "Unge uden uddannelse eller job",
        ),
        competencies=(
            "Specialundervisning",
            "Dagbehandling",
            "Praktikforløb",
            "Kognitiv adfærdsterapi",
            "Skolevægring",
            "Motiverende samtale",
        ),
        education_levels=("lærer", "pædagog", "psykolog", "socialpædagog", "ergoterapeut"),
        stems=("Dagbehandlingen", "Værkstedsskolen", "Ungdomshuset", "Skolehjemmet", "Produktionsskolen"),
        centre_topics=("Dagbehandling", "Specialpædagogik", "Unge og Uddannelse"),
        trades=("Praktikformidling", "Specialpædagogisk Konsulent"),
    ),
    "adult": Profile(
        weight=10,
        interventions={
            "socio-pedagogical-support": 5,
            "substance-treatment": 2,
            "temporary-residence": 2,
            "long-term-residence": 2,
            "contact-person": 1,
        },
        target_groups=(
            "Voksne med sindslidelse",
            "Voksne med misbrug",
            "Unge voksne 18-30 år",
            "Voksne med udviklingshæmning",
            "Hjemløse",
        ),
        competencies=(
            "Recovery-orienteret støtte",
            "Misbrugsbehandling",
            "Motiverende samtale",
            "Dobbeltdiagnoser",
            "Bostøtte",
            "Økonomisk rådgivning",
        ),
        education_levels=(
            "socialpædagog",
            "sygeplejerske",
            "misbrugsbehandler",
            "socialrådgiver",
            "ergoterapeut",
        ),
        stems=("Botilbuddet", "Bostøtten", "Misbrugscentret", "Socialpsykiatrisk Team", "Recoveryhuset"),
        centre_topics=("Socialpsykiatri", "Misbrugsbehandling", "Bostøtte"),
        trades=("Bostøtte", "Misbrugsrådgivning"),
    ),
}

PLACES = (
    "Fyn",
    "Odense",
    "Tarup",
    "Bolbro",
    "Vollsmose",
    "Dalum",
    "Hjallese",
    "Fraugde",
    "Næsby",
    "Bellinge",
    "Holluf Pile",
    "Sanderum",
    "Højby",
    "Korup",
    "Seden",
    "Lumby",
    "Munkebjerg",
    "Fruens Bøge",
    "Hunderup",
    "Sydfyn",
    "Nordfyn",
    "Midtfyn",
    "Lillebælt",
    "Odense Å",
)
LEGAL_FORMS = ("ApS", "ApS", "ApS", "A/S", "I/S", "K/S")
FIRST_NAMES = (
    "Mette",
    "Anne",
    "Hanne",
    "Lone",
    "Susanne",
    "Camilla",
    "Louise",
    "Maria",
    "Charlotte",
    "Pia",
    "Rikke",
    "Helle",
    "Karina",
    "Line",
    "Sofie",
    "Lars",
    "Jens",
    "Peter",
    "Søren",
    "Michael",
    "Henrik",
    "Thomas",
    "Anders",
    "Morten",
    "Jesper",
    "Rasmus",
    "Kasper",
    "Mads",
    "Niels",
    "Bo",
    "Fatima",
    "Yasmin",
    "Emre",
)
LAST_NAMES = (
    "Hansen",
    "Jensen",
    "Nielsen",
    "Pedersen",
    "Andersen",
    "Christensen",
    "Larsen",
    "Sørensen",
    "Rasmussen",
    "Jørgensen",
    "Petersen",
    "Madsen",
    "Kristensen",
    "Olsen",
    "Thomsen",
    "Poulsen",
    "Johansen",
    "Møller",
    "Mortensen",
    "Kjær",
    "Lund",
    "Holm",
    "Frandsen",
    "Bech",
    "Dahl",
    "Østergaard",
    "Skov",
    "Lauridsen",
    "Juhl",
    "Yilmaz",
)
STREETS = (
    ("Vestergade", "5000 Odense C"),
    ("Kongensgade", "5000 Odense C"),
    ("Overgade", "5000 Odense C"),
    ("Nørregade", "5000 Odense C"),
    ("Østre Stationsvej", "5000 Odense C"),
    ("Klosterbakken", "5000 Odense C"),
    ("Middelfartvej", "5200 Odense V"),
    ("Stegstedvej", "5200 Odense V"),
    ("Rugårdsvej", "5210 Odense NV"),
    ("Tarupgårdsvej", "5210 Odense NV"),
    ("Nyborgvej", "5220 Odense SØ"),
    ("Ørbækvej", "5220 Odense SØ"),
    ("Niels Bohrs Allé", "5230 Odense M"),
    ("Munkebjergvej", "5230 Odense M"),
    ("Vollsmose Allé", "5240 Odense NØ"),
    ("Åsumvej", "5240 Odense NØ"),
    ("Dalumvej", "5250 Odense SV"),
    ("Sanderumvej", "5250 Odense SV"),
    ("Svendborgvej", "5260 Odense S"),
    ("Hjallesevej", "5260 Odense S"),
    ("Næsbyvej", "5270 Odense N"),
    ("Bogensevej", "5270 Odense N"),
)

# -- interventions -----------------------------------------------------------------------------------

# How often each intervention is referred (Odense's preventive area dominates; adults are a minority).
REFERRAL_MIX: dict[str, int] = {
    "family-treatment": 18,
    "consultancy": 13,
    "contact-person": 14,
    "home-support": 12,
    "child-treatment": 8,
    "network-group": 6,
    "respite-stay": 7,
    "day-treatment": 4,
    "placement": 5,
    "family-residential": 2,
    "internship": 2,
    "other-help": 3,
    "parent-support-person": 3,
    "socio-pedagogical-support": 3,
    "substance-treatment": 1,
    "temporary-residence": 1,
    "long-term-residence": 1,
}
# List-rate ranges in whole DKK: per face-to-face hour, or per day for stays and day treatment.
HOURLY_RANGES: dict[str, tuple[int, int]] = {
    "consultancy": (700, 1100),
    "family-treatment": (750, 1100),
    "child-treatment": (750, 1100),
    "home-support": (550, 800),
    "contact-person": (550, 750),
    "other-help": (550, 900),
    "parent-support-person": (550, 750),
    "socio-pedagogical-support": (550, 750),
    "substance-treatment": (650, 950),
    "network-group": (600, 900),
}
DAILY_RANGES: dict[str, tuple[int, int]] = {
    "day-treatment": (1800, 3200),
    "internship": (1800, 2400),
    "family-residential": (4500, 6500),
    "respite-stay": (2200, 4200),
    "placement": (3500, 6500),
    "temporary-residence": (2500, 4500),
    "long-term-residence": (2800, 5000),
}
HOURS_PER_WEEK: dict[str, tuple[str, ...]] = {
    "consultancy": ("1.00", "1.50", "2.00", "2.00", "3.00"),
    "family-treatment": ("1.50", "2.00", "2.00", "3.00", "3.00", "4.00"),
    "child-treatment": ("1.00", "1.50", "2.00", "2.00", "3.00"),
    "home-support": ("3.00", "4.00", "5.00", "6.00", "8.00", "10.00"),
    "contact-person": ("2.00", "3.00", "4.00", "4.00", "5.00", "6.00"),
    "other-help": ("2.00", "3.00", "4.00"),
    "parent-support-person": ("1.00", "1.50", "2.00"),
    "socio-pedagogical-support": ("2.00", "3.00", "4.00", "5.00", "6.50"),
    "substance-treatment": ("1.50", "2.00", "3.00"),
    "network-group": ("1.50", "2.00"),
}
DURATION_MONTHS: dict[str, tuple[int, ...]] = {
    "consultancy": (2, 3, 4, 6),
    "network-group": (3, 3, 4),
    "family-residential": (2, 3, 4),
    "internship": (3, 4, 6),
    "day-treatment": (6, 9, 12),
    "respite-stay": (6, 6, 12),
    "placement": (6, 12, 12, 18),
    "temporary-residence": (6, 9, 12),
    "long-term-residence": (12, 24),
}
DEFAULT_DURATION_MONTHS = (3, 4, 6, 6, 6, 9, 12)
PACKAGES: dict[str, tuple[str, ...]] = {
    "network-group": ("Netværksgruppe", "Samtalegruppe", "Forældregruppe", "Søskendegruppe"),
    "family-treatment": ("Familiebehandlingsforløb", "Intensivt familieforløb"),
    "child-treatment": ("Behandlingsforløb", "Traumeforløb"),
    "consultancy": ("Udredningsforløb", "Afklaringsforløb"),
}
PURPOSES: dict[str, tuple[str, ...]] = {
    "family-treatment": (
        "Familiebehandling med fokus på forældrenes omsorgsevne og samspillet mellem forældre og barn.",
        "Styrke familiens kommunikation og konfliktløsning efter forældrenes skilsmisse.",
        "Familiebehandling, så barnet kan blive boende hjemme; fokus på struktur og grænsesætning.",
        "Støtte forældrene i at forstå og møde barnets reaktioner efter tab i familien.",
    ),
    "child-treatment": (
        "Behandling af den unges angst og skolevægring, så den unge kan genoptage skolegangen.",
        "Traumebehandling af barnet efter vold i hjemmet.",
        "Behandlingsforløb for den unge med selvskadende adfærd i samarbejde med forældrene.",
    ),
    "consultancy": (
        "Konsulentbistand til afklaring af familiens behov for støtte.",
        "Rådgivning af forældrene om barnets udviklingsforstyrrelse og hverdagen med ADHD.",
        "Kortvarig familierettet indsats med fokus på barnets trivsel og fremmøde i skolen.",
    ),
    "network-group": (
        "Deltagelse i samtalegruppe for børn af forældre med psykisk sygdom.",
        "Netværksgruppe for unge, der har mistet en forælder.",
        "Samtalegruppe for børn i familier med misbrug.",
        "Gruppeforløb for børn i skilsmissefamilier.",
    ),
    "home-support": (
        "Praktisk og pædagogisk støtte i hjemmet til morgenrutiner, måltider og sengetider.",
        "Støtte i hjemmet til en forælder med nedsat funktionsevne i omsorgen for to mindre børn.",
        "Pædagogisk støtte i hjemmet til at skabe forudsigelighed og ro for barnet.",
    ),
    "contact-person": (
        "Fast kontaktperson til den unge med fokus på skolegang, fritidsliv og kammeratskaber.",
        "Fast kontaktperson for at forebygge kriminalitet og styrke den unges netværk.",
        "Fast kontaktperson for hele familien i en periode med stor belastning.",
        "Kontaktperson, der støtter den unge i overgangen til ungdomsuddannelse.",
    ),
    "internship": (
        "Praktiktilbud som led i den unges vej mod uddannelse eller beskæftigelse.",
        "Praktikforløb med godtgørelse, så den unge får erfaring fra en arbejdsplads.",
    ),
    "day-treatment": (
        "Dagbehandlingstilbud med skole og behandling for barnet, der ikke kan rummes i almen skole.",
        "Dagbehandling med fokus på sociale kompetencer og læring i små grupper.",
    ),
    "family-residential": (
        "Døgnophold for hele familien med støtte i omsorgen for spædbarnet og vurdering af forældreevnen.",
        "Familieophold med henblik på at styrke forældrenes omsorg, så en anbringelse kan undgås.",
    ),
    "respite-stay": (
        "Aflastning en weekend hver anden uge, så familien får overskud i hverdagen.",
        "Støtteophold for barnet med henblik på at aflaste forældrene.",
    ),
    "placement": (
        "Anbringelse uden for hjemmet med samtykke på opholdssted med fokus på skole og trivsel.",
        "Anbringelse med samtykke; barnet har behov for et stabilt og struktureret døgnmiljø.",
    ),
    "other-help": (
        "Mentor i overgangen fra folkeskole til ungdomsuddannelse.",
        "Anden hjælp: rådgivning og praktisk støtte til familien i en akut periode.",
    ),
    "parent-support-person": (
        "Støtteperson til forælder til anbragt barn, med fokus på samarbejdet med anbringelsesstedet.",
        "Støtteperson, der hjælper forælderen med at forberede samvær og møder med kommunen.",
    ),
    "socio-pedagogical-support": (
        "Socialpædagogisk støtte til ung voksen i egen bolig: økonomi, struktur og kontakt til myndigheder.",
        "Bostøtte, så borgeren kan fastholde egen bolig og komme i gang med uddannelse.",
    ),
    "substance-treatment": (
        "Ambulant stofmisbrugsbehandling for ung voksen.",
        "Stofmisbrugsbehandling kombineret med støtte til job og bolig.",
    ),
    "temporary-residence": ("Midlertidigt botilbud til ung voksen med behov for omfattende støtte.",),
    "long-term-residence": (
        "Længerevarende botilbud til voksen med betydelig og varigt nedsat funktionsevne.",
    ),
}
PURPOSE_ADDITIONS = (
    "",
    "",
    " Indsatsen evalueres efter tre måneder.",
    " Forældrene er indforståede med indsatsen.",
    " Mål og delmål fremgår af handleplanen.",
    " Barnets egne ønsker er inddraget ved børnesamtale.",
)
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
