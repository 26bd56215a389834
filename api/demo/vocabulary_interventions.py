"""The demo's interventions: how often each is referred, list-rate ranges, hours, durations,
packages and the Danish purposes written on referrals."""

from __future__ import annotations

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
# The interventions the municipality could deliver itself, and how it worked out the cost.
OWN_COSTS: dict[str, str] = {
    "family-treatment": "Egne familiebehandlere: løn, pension, supervision og overhead pr. ansigt-til-ansigt-time",
    "contact-person": "Egne kontaktpersoner: timeløn med tillæg, kørsel og ledelse pr. time",
    "home-support": "Egen hjemme-hos-indsats: løn, transport og administration pr. time",
    "respite-stay": "Kommunens aflastningsinstitution: driftsbudget delt på belagte døgn",
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
