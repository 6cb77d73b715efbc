#!/usr/bin/env python3
"""Regenerate the demo roster: players.csv and matches.csv.

The CSVs are the source of truth; this script only exists so they can be
rebuilt the same way. It is deterministic (seeded RNG), uses the standard
library only, and writes UTF-8 with "\n" line endings.

    python3 examples/demo/generate.py          # rewrites the CSVs next to it

Every player is fictional. PINs are random 6-digit strings, all distinct, and
the script refuses to write a PIN that also occurs anywhere else in the data
(so a test can grep the built site for every PIN and expect no hit).
"""

import csv
import datetime
import random
import unicodedata
from pathlib import Path

SEED = 20260906
HERE = Path(__file__).resolve().parent

# (first names, last names) per language area, so that names stay plausible.
POOLS = {
    "fr": (
        ["Camille", "Léa", "Chloé", "Manon", "Inès", "Théo", "Hugo", "Mathéo",
         "Gaël", "Noémie", "Maël", "Anaïs", "Clément", "Benoît", "Océane"],
        ["Lefèvre", "Moreau", "Girard", "Bérubé", "Lemaître", "Dubois", "Fournier",
         "Chevalier", "Rousseau", "Gauthier", "Mercier", "Hébert"],
    ),
    "es": (
        ["Iñaki", "Lucía", "Álvaro", "Sofía", "Martín", "Begoña", "Andrés", "Inés",
         "Ramón", "Aitana"],
        ["Núñez", "García", "Muñoz", "Ibáñez", "Jiménez", "Sánchez", "Peña",
         "Fernández", "Ortiz", "Gómez"],
    ),
    "pt": (
        ["João", "Gonçalo", "Inês", "Sebastião", "Leonor", "Tomás", "Beatriz"],
        ["Conceição", "Magalhães", "Gonçalves", "Simões", "Araújo", "Brandão"],
    ),
    "it": (
        ["Giulia", "Niccolò", "Lorenzo", "Chiara", "Matteo", "Francesca", "Nicolò"],
        ["Rossi", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci"],
    ),
    "de": (
        ["Jürgen", "Lena", "Björn", "Jörg", "Annika", "Maximilian", "Sören", "Käthe"],
        ["Müller", "Schröder", "Weiß", "Köhler", "Groß", "Becker", "Hoffmann", "Krüger"],
    ),
    "pl": (
        ["Łukasz", "Agnieszka", "Małgorzata", "Paweł", "Zofia", "Wojciech", "Kasia"],
        ["Wąsowski", "Kowalczyk", "Żółkiewski", "Wiśniewska", "Szymański", "Nowak"],
    ),
    "no": (
        ["Øyvind", "Ingrid", "Åse", "Bjørn", "Solveig", "Håkon", "Sigrid"],
        ["Næss", "Løvland", "Sørensen", "Haugen", "Bråten", "Ødegård"],
    ),
    "tr": (
        ["Emre", "Ayşe", "Elif", "Barış", "Gökhan", "Şule", "Oğuz"],
        ["Çelik", "Yılmaz", "Öztürk", "Şahin", "Doğan", "Aydın"],
    ),
    "cz": (
        ["Tomáš", "Jiří", "Eliška", "Kateřina", "Lukáš", "Barbora"],
        ["Dvořák", "Novotná", "Černý", "Procházka", "Kučera", "Růžička"],
    ),
    "nl": (
        ["Sanne", "Daan", "Floor", "Joost", "Marijke", "Sem"],
        ["de Vries", "van Dijk", "Bakker", "Janssen", "van den Berg", "Visser"],
    ),
    "ie": (
        ["Seán", "Niamh", "Siobhán", "Pádraig", "Aoife", "Ciarán"],
        ["O'Brien", "Ó Súilleabháin", "Murphy", "Kelly", "Ní Bhriain", "Byrne"],
    ),
    "hu": (
        ["Zsófia", "Bence", "Réka", "Ádám", "Dóra", "Gergő"],
        ["Kovács", "Szabó", "Tóth", "Horváth", "Nagy", "Fülöp"],
    ),
    "hr": (
        ["Ivana", "Luka", "Matej", "Petra", "Dražen", "Mia"],
        ["Perić", "Babić", "Jurić", "Kovačević", "Marić", "Đurić"],
    ),
}

# Names that exercise the awkward cases on purpose (quoting, apostrophes,
# letters that do not decompose to ASCII). (display name, e-mail local part)
SPECIAL = [
    ("Zoé Éloïse Marchand", "zoe.marchand"),
    ("Jérôme Lefèvre", "jerome.lefevre"),
    ("Emre Çelik", "emre.celik"),
    ("Iñaki Núñez", "inaki.nunez"),
    ("Øyvind Næss", "oyvind.naess"),
    ("Łukasz Wąsowski", "lukasz.wasowski"),
    ("Luca D'Angelo", "luca.dangelo"),
    ("Wright, Thomas Jr.", "thomas.wright"),
]

TEAMS = ["Red", "Blue", "Green", "Gold"]
POSITIONS = ["Goalkeeper", "Defender", "Defender", "Defender", "Midfielder",
             "Midfielder", "Midfielder", "Forward", "Forward"]
OPPONENTS = [
    "Riverside Rovers", "AS Belcourt", "FC Nordhavn", "Sporting Valmont",
    "Union Saint-Rémy", "Atlético Mirasol", "SV Grünwald", "Dynamo Lesná",
    "Olympique Lanvaux", "Kilmore Harps", "Vik Ballklubb", "Real Azahar",
]
PLAYER_COUNT = 120
MATCHDAYS = 8
FIRST_MATCHDAY = datetime.date(2026, 9, 6)

# Letters that NFKD does not turn into ASCII.
TRANSLIT = str.maketrans({"ø": "o", "Ø": "O", "ł": "l", "Ł": "L", "ß": "ss",
                          "æ": "ae", "Æ": "AE", "đ": "d", "Đ": "D", "ı": "i"})


def ascii_slug(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.translate(TRANSLIT))
    text = text.encode("ascii", "ignore").decode().lower()
    return "".join(ch for ch in text if ch.isalnum())


def make_names(rng: random.Random) -> list[tuple[str, str]]:
    names = list(SPECIAL)
    seen = {name for name, _ in names}
    emails = {local for _, local in names}
    areas = sorted(POOLS)
    while len(names) < PLAYER_COUNT:
        firsts, lasts = POOLS[rng.choice(areas)]
        first, last = rng.choice(firsts), rng.choice(lasts)
        name = f"{first} {last}"
        local = f"{ascii_slug(first)}.{ascii_slug(last)}"
        if name in seen or local in emails:
            continue
        seen.add(name)
        emails.add(local)
        names.append((name, local))
    rng.shuffle(names)
    return names


def make_pin(rng: random.Random, used: set[str]) -> str:
    while True:
        pin = f"{rng.randrange(1_000_000):06d}"
        # Not guessable at a glance: at least four different digits.
        if pin not in used and len(set(pin)) >= 4:
            used.add(pin)
            return pin


def make_schedule(rng: random.Random) -> dict[str, list[dict]]:
    """Each team's fixtures: one match per Sunday, home and away alternating."""
    schedule = {}
    for team in TEAMS:
        opponents = rng.sample(OPPONENTS, MATCHDAYS)
        fixtures = []
        for day, opponent in enumerate(opponents):
            ours, theirs = rng.choice([(0, 0), (1, 0), (1, 1), (2, 0), (2, 1), (0, 1),
                                       (3, 1), (1, 2), (2, 2), (0, 2), (4, 2), (3, 0)])
            outcome = "W" if ours > theirs else "D" if ours == theirs else "L"
            fixtures.append({
                "date": (FIRST_MATCHDAY + datetime.timedelta(weeks=day)).isoformat(),
                "opponent": opponent,
                "venue": "Home" if day % 2 == 0 else "Away",
                "result": f"{outcome} {ours}-{theirs}",
                "outcome": outcome,
                "ours": ours,
            })
        schedule[team] = fixtures
    return schedule


def main() -> None:
    rng = random.Random(SEED)
    names = make_names(rng)
    schedule = make_schedule(rng)
    used_pins: set[str] = set()
    players, matches = [], []

    for index, (name, local) in enumerate(names, start=1):
        pid = f"p{index:03d}"
        team = TEAMS[(index - 1) % len(TEAMS)]
        position = rng.choice(POSITIONS)
        played = sorted(rng.sample(range(MATCHDAYS), rng.randint(3, MATCHDAYS)))
        points = goals = assists = 0
        for day in played:
            fixture = schedule[team][day]
            scoring = {"Forward": 3, "Midfielder": 2, "Defender": 1}.get(position, 0)
            g = min(fixture["ours"], rng.choice([0] * (6 - scoring) + list(range(1, scoring + 1))))
            a = rng.choice([0, 0, 0, 1] if position != "Goalkeeper" else [0])
            minutes = rng.choice([90, 90, 90, 90, 85, 78, 67, 61, 45, 30, 23, 12])
            points += {"W": 3, "D": 1, "L": 0}[fixture["outcome"]]
            goals += g
            assists += a
            matches.append([pid, fixture["date"], fixture["opponent"], fixture["venue"],
                            fixture["result"], g, a, minutes])
        players.append([pid, name, make_pin(rng, used_pins), team, position,
                        points, goals, assists, len(played), f"{local}@example.org"])

    # A PIN must occur only in its own cell: never inside another value.
    others = [str(v) for row in players for i, v in enumerate(row) if i != 2]
    others += [str(v) for row in matches for v in row]
    blob = "\n".join(others)
    clashes = [pin for pin in used_pins if pin in blob]
    if clashes:
        raise SystemExit(f"PIN(s) also found elsewhere in the data: {len(clashes)}")

    write(HERE / "players.csv",
          ["id", "name", "pin", "team", "position", "points", "goals", "assists",
           "played", "email"], players)
    write(HERE / "matches.csv",
          ["player_id", "date", "opponent", "venue", "result", "goals", "assists",
           "minutes"], matches)
    print(f"wrote {len(players)} players and {len(matches)} matches")


def write(path: Path, header: list[str], rows: list[list]) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


if __name__ == "__main__":
    main()
