"""The kinds of supplier in the demo municipality: what each offers, whom it serves, who works there
and what it is called."""

from __future__ import annotations

from dataclasses import dataclass


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
