#!/usr/bin/env python3
"""Synthetic roster for the `gen build` benchmark (bench/build.sh).

    python3 bench/synth.py --players 10000 --matches 20 --out DIR

writes, in DIR (UTF-8, "\\n" line endings, same columns as examples/demo/):

    players.csv      id,name,pin,team,position,points,goals,assists,played,email
    matches.csv      player_id,date,opponent,venue,result,goals,assists,minutes
    players.top.csv  players.csv with the top scorer's points + 1 (rank
                     unchanged: only that player's page and index page 1 change)
    players.mid.csv  players.csv with a mid-table player's points + 1 (the
                     player and the tie group left behind re-rank: possibly
                     several index pages change)

and prints one line per variant: `top <id> <old> <new>` / `mid <id> <old> <new>`.

Deterministic (seeded RNG; same arguments give the same bytes), standard
library only. Names are unique (so every player can log in, no warnings),
accented, from several language areas; PINs are distinct 6-digit strings
with at least four different digits. Every player has exactly --matches
match rows; points are league points (W 3, D 1, L 0) plus goals.
"""

import argparse
import csv
import datetime
import random
import unicodedata
from pathlib import Path

SEED = 20260906

POOLS = {
    "fr": (["Camille", "Léa", "Chloé", "Manon", "Inès", "Théo", "Hugo", "Mathéo",
            "Gaël", "Noémie", "Maël", "Anaïs", "Clément", "Benoît", "Océane",
            "Zoé", "Éloïse", "Jérôme", "Amélie", "Hélène"],
           ["Lefèvre", "Moreau", "Girard", "Bérubé", "Lemaître", "Dubois", "Fournier",
            "Chevalier", "Rousseau", "Gauthier", "Mercier", "Hébert", "Marchand",
            "Lécuyer", "Pâris", "Thébault"]),
    "es": (["Iñaki", "Lucía", "Álvaro", "Sofía", "Martín", "Begoña", "Andrés", "Inés",
            "Ramón", "Aitana", "Jesús", "Núria"],
           ["Núñez", "García", "Muñoz", "Ibáñez", "Jiménez", "Sánchez", "Peña",
            "Fernández", "Ortiz", "Gómez", "Martínez", "Domínguez"]),
    "pt": (["João", "Gonçalo", "Inês", "Sebastião", "Leonor", "Tomás", "Beatriz",
            "Conceição", "Simão"],
           ["Conceição", "Magalhães", "Gonçalves", "Simões", "Araújo", "Brandão",
            "Guimarães", "Assunção"]),
    "it": (["Giulia", "Niccolò", "Lorenzo", "Chiara", "Matteo", "Francesca", "Nicolò",
            "Luca", "Elena"],
           ["Rossi", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci",
            "D'Angelo", "Fabbrì"]),
    "de": (["Jürgen", "Lena", "Björn", "Jörg", "Annika", "Maximilian", "Sören", "Käthe",
            "Günther", "Jürgen-Uwe"],
           ["Müller", "Schröder", "Weiß", "Köhler", "Groß", "Becker", "Hoffmann",
            "Krüger", "Schäfer", "Größer"]),
    "pl": (["Łukasz", "Agnieszka", "Małgorzata", "Paweł", "Zofia", "Wojciech", "Kasia",
            "Bożena", "Jędrzej"],
           ["Wąsowski", "Kowalczyk", "Żółkiewski", "Wiśniewska", "Szymański", "Nowak",
            "Michałowski", "Dąbrowska"]),
    "no": (["Øyvind", "Ingrid", "Åse", "Bjørn", "Solveig", "Håkon", "Sigrid", "Jørgen"],
           ["Næss", "Løvland", "Sørensen", "Haugen", "Bråten", "Ødegård", "Åsheim"]),
    "tr": (["Emre", "Ayşe", "Elif", "Barış", "Gökhan", "Şule", "Oğuz", "İlker"],
           ["Çelik", "Yılmaz", "Öztürk", "Şahin", "Doğan", "Aydın", "Güneş"]),
    "cz": (["Tomáš", "Jiří", "Eliška", "Kateřina", "Lukáš", "Barbora", "Přemysl"],
           ["Dvořák", "Novotná", "Černý", "Procházka", "Kučera", "Růžička", "Šťastný"]),
    "nl": (["Sanne", "Daan", "Floor", "Joost", "Marijke", "Sem", "Anouk"],
           ["de Vries", "van Dijk", "Bakker", "Janssen", "van den Berg", "Visser",
            "Dekker"]),
    "ie": (["Seán", "Niamh", "Siobhán", "Pádraig", "Aoife", "Ciarán", "Róisín"],
           ["O'Brien", "Ó Súilleabháin", "Murphy", "Kelly", "Ní Bhriain", "Byrne",
            "Mac Giolla Phádraig"]),
    "hu": (["Zsófia", "Bence", "Réka", "Ádám", "Dóra", "Gergő", "Ákos"],
           ["Kovács", "Szabó", "Tóth", "Horváth", "Nagy", "Fülöp", "Győri"]),
    "hr": (["Ivana", "Luka", "Matej", "Petra", "Dražen", "Mia", "Željko"],
           ["Perić", "Babić", "Jurić", "Kovačević", "Marić", "Đurić", "Šimić"]),
}

TEAM_COLOURS = ["Red", "Blue", "Green", "Gold", "White", "Black", "Orange", "Navy"]
AGE_GROUPS = ["U10", "U12", "U14", "U16", "U18", "Seniors", "Veterans", "Women"]
POSITIONS = ["Goalkeeper", "Defender", "Defender", "Defender", "Midfielder",
             "Midfielder", "Midfielder", "Forward", "Forward"]
OPPONENTS = [
    "Riverside Rovers", "AS Belcourt", "FC Nordhavn", "Sporting Valmont",
    "Union Saint-Rémy", "Atlético Mirasol", "SV Grünwald", "Dynamo Lesná",
    "Olympique Lanvaux", "Kilmore Harps", "Vik Ballklubb", "Real Azahar",
    "Górnik Wąchock", "Fenerbahçe Köyü", "Ferencváros II", "Slavia Žižkov",
    "Estrela Alvalá", "Hajduk Šibenik", "Ajax Zuid", "Bohemians Lough",
]
FIRST_MATCHDAY = datetime.date(2025, 8, 31)
SCORES = [(0, 0), (1, 0), (1, 1), (2, 0), (2, 1), (0, 1), (3, 1), (1, 2), (2, 2),
          (0, 2), (4, 2), (3, 0)]
MINUTES = [90, 90, 90, 90, 85, 78, 67, 61, 45, 30, 23, 12]
TRANSLIT = str.maketrans({"ø": "o", "Ø": "O", "ł": "l", "Ł": "L", "ß": "ss",
                          "æ": "ae", "Æ": "AE", "đ": "d", "Đ": "D", "ı": "i",
                          "İ": "I"})


def ascii_slug(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.translate(TRANSLIT))
    text = text.encode("ascii", "ignore").decode().lower()
    return "".join(ch for ch in text if ch.isalnum())


def make_names(rng: random.Random, count: int) -> list[tuple[str, str]]:
    """Unique (display name, e-mail local part): "First Last", then
    "First Middle Last", then "First Last-Last2", within one language area."""
    areas = sorted(POOLS)
    names, seen, emails = [], set(), set()
    attempts = 0
    while len(names) < count:
        attempts += 1
        if attempts > count * 200:
            raise SystemExit(f"cannot make {count} unique names from the pools")
        firsts, lasts = POOLS[rng.choice(areas)]
        first, last = rng.choice(firsts), rng.choice(lasts)
        shape = rng.random()
        if shape < 0.5:
            name, local = f"{first} {last}", f"{ascii_slug(first)}.{ascii_slug(last)}"
        elif shape < 0.8:
            middle = rng.choice([f for f in firsts if f not in (first, last)])
            name = f"{first} {middle} {last}"
            local = f"{ascii_slug(first)}.{ascii_slug(middle)}.{ascii_slug(last)}"
        else:
            last2 = rng.choice([x for x in lasts if x != last])
            name = f"{first} {last}-{last2}"
            local = f"{ascii_slug(first)}.{ascii_slug(last)}-{ascii_slug(last2)}"
        key = unicodedata.normalize("NFKC", name).casefold()
        if key in seen or local in emails:
            continue
        seen.add(key)
        emails.add(local)
        names.append((name, local))
    return names


def make_pin(rng: random.Random, used: set[str]) -> str:
    while True:
        pin = f"{rng.randrange(1_000_000):06d}"
        if pin not in used and len(set(pin)) >= 4:
            used.add(pin)
            return pin


def make_schedule(rng: random.Random, teams: list[str], matchdays: int) -> dict:
    schedule = {}
    for team in teams:
        fixtures = []
        for day in range(matchdays):
            ours, theirs = rng.choice(SCORES)
            outcome = "W" if ours > theirs else "D" if ours == theirs else "L"
            fixtures.append({
                "date": (FIRST_MATCHDAY + datetime.timedelta(weeks=day)).isoformat(),
                "opponent": rng.choice(OPPONENTS),
                "venue": "Home" if day % 2 == 0 else "Away",
                "result": f"{outcome} {ours}-{theirs}",
                "outcome": outcome,
                "ours": ours,
            })
        schedule[team] = fixtures
    return schedule


def write(path: Path, header: list[str], rows: list[list]) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


PLAYER_HEADER = ["id", "name", "pin", "team", "position", "points", "goals",
                 "assists", "played", "email"]
MATCH_HEADER = ["player_id", "date", "opponent", "venue", "result", "goals",
                "assists", "minutes"]
POINTS = PLAYER_HEADER.index("points")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--players", type=int, required=True)
    ap.add_argument("--matches", type=int, default=20, help="match rows per player")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--seed", type=int, default=SEED)
    args = ap.parse_args()

    rng = random.Random(args.seed * 1_000_003 + args.players)
    teams = [f"{age} {colour}" for age in AGE_GROUPS for colour in TEAM_COLOURS]
    # Each team plays a few more matchdays than any player, so players differ.
    schedule = make_schedule(rng, teams, args.matches + 6)
    names = make_names(rng, args.players)
    used_pins: set[str] = set()
    width = max(4, len(str(args.players)))
    players, matches = [], []
    for index, (name, local) in enumerate(names, start=1):
        pid = f"p{index:0{width}d}"
        team = rng.choice(teams)
        position = rng.choice(POSITIONS)
        played = sorted(rng.sample(range(len(schedule[team])), args.matches))
        points = goals = assists = 0
        scoring = {"Forward": 3, "Midfielder": 2, "Defender": 1}.get(position, 0)
        for day in played:
            fx = schedule[team][day]
            g = min(fx["ours"], rng.choice([0] * (6 - scoring) + list(range(1, scoring + 1))))
            a = rng.choice([0, 0, 0, 1] if position != "Goalkeeper" else [0])
            points += {"W": 3, "D": 1, "L": 0}[fx["outcome"]] + g
            goals += g
            assists += a
            matches.append([pid, fx["date"], fx["opponent"], fx["venue"], fx["result"],
                            g, a, rng.choice(MINUTES)])
        players.append([pid, name, make_pin(rng, used_pins), team, position, points,
                        goals, assists, len(played), f"{local}@example.org"])

    args.out.mkdir(parents=True, exist_ok=True)
    write(args.out / "players.csv", PLAYER_HEADER, players)
    write(args.out / "matches.csv", MATCH_HEADER, matches)

    # Variants with one player's points changed. Order as the index shows it
    # (points descending); ties by row, which is enough to pick a player.
    order = sorted(range(len(players)), key=lambda i: (-players[i][POINTS], i))
    for label, pick in (("top", order[0]), ("mid", order[len(order) // 2])):
        changed = [row[:] for row in players]
        old = changed[pick][POINTS]
        changed[pick][POINTS] = old + 1
        write(args.out / f"players.{label}.csv", PLAYER_HEADER, changed)
        print(f"{label} {changed[pick][0]} {old} {old + 1}")


if __name__ == "__main__":
    main()
