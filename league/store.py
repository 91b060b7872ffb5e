"""The league's SQLite database, through sqlite-utils.

Results stored here are the source of truth: ratings, tables and replays are all recomputed from them. The
database runs in WAL mode, so `league generations` and the viewer read while `league train` writes, and a
reader never blocks the writer. One writer at a time: every write transaction starts with BEGIN IMMEDIATE
(it takes the write lock first, so two writers never deadlock on a lock upgrade) and every connection waits
up to `BUSY_TIMEOUT_MS` for its turn. The schema changes only through the migrations below, applied on open
in one such transaction and safe to rerun (two processes opening a new file at once: one creates it, the
other waits and finds it made). A database written by a newer version (a migration this one does not know) is
refused before anything is written; a reader never creates a schema (an empty file or another program's
database is refused). Every multi-row write is one transaction: a crash leaves either all of it or none.
Integers SQLite cannot hold (outside -2**63..2**63-1) and damaged files are StoreErrors, one line each.

Readable generation names are "league/team/gN" (or "team/gN" within a known league).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import sqlite3
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from sqlite_utils import Database, Migrations

from league.limits import LEAGUE_NAME
from league.replays import Episode, episode_columns, episode_from_columns

BUSY_TIMEOUT_MS = 10_000
JSON_COLUMNS = {"game_kwargs", "config", "metrics", "seats"}
PLAYER_KINDS = ("generation", "random", "scripted", "human")


class StoreError(Exception):
    """An expected storage failure (missing or unreadable database, unknown name, bad write), in one line."""


# ---- migrations: append a new decorated function to change the schema; never edit an applied one ----

migrations = Migrations("league")
KNOWN_MIGRATIONS: list[str] = []
"""Names of the migrations this version knows, in order; a database that has applied any other is newer."""


def migration(fn: Any) -> Any:
    KNOWN_MIGRATIONS.append(fn.__name__)
    return migrations()(fn)


@migration
def m001_leagues_teams_generations_players(db: Database) -> None:
    db.executescript(
        """
        CREATE TABLE leagues (
            id INTEGER PRIMARY KEY,
            name TEXT UNIQUE NOT NULL,
            game TEXT NOT NULL,
            game_kwargs TEXT,  -- json
            config TEXT,       -- json
            created_at TEXT DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
        );
        CREATE TABLE teams (
            id INTEGER PRIMARY KEY,
            league_id INTEGER NOT NULL REFERENCES leagues(id),
            name TEXT NOT NULL,
            seed INTEGER,
            config TEXT,  -- json
            created_at TEXT DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
            UNIQUE (league_id, name)
        );
        CREATE TABLE generations (
            id INTEGER PRIMARY KEY,
            team_id INTEGER NOT NULL REFERENCES teams(id),
            number INTEGER NOT NULL,
            parent_id INTEGER REFERENCES generations(id),
            checkpoint TEXT,
            sha256 TEXT,
            config TEXT,   -- json
            train_steps INTEGER,
            wall_time REAL,
            metrics TEXT,  -- json
            created_at TEXT DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
            UNIQUE (team_id, number)
        );
        CREATE TABLE training_metrics (
            id INTEGER PRIMARY KEY,
            generation_id INTEGER NOT NULL REFERENCES generations(id),
            iteration INTEGER NOT NULL,
            metrics TEXT,  -- json
            UNIQUE (generation_id, iteration)
        );
        CREATE TABLE players (
            id INTEGER PRIMARY KEY,
            league_id INTEGER NOT NULL REFERENCES leagues(id),
            name TEXT NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('generation', 'random', 'scripted', 'human')),
            generation_id INTEGER REFERENCES generations(id),
            UNIQUE (league_id, name)
        );
        """
    )


@migration
def m002_matches_results_episodes(db: Database) -> None:
    db.executescript(
        """
        CREATE TABLE matches (
            id INTEGER PRIMARY KEY,
            league_id INTEGER NOT NULL REFERENCES leagues(id),
            kind TEXT NOT NULL CHECK (kind IN ('duplicate', 'mixed', 'human')),
            player_a INTEGER NOT NULL REFERENCES players(id),
            player_b INTEGER NOT NULL REFERENCES players(id),
            seeds INTEGER NOT NULL,
            score_a REAL,  -- points of A over rated seeds (draws half); NULL for mixed matches
            created_at TEXT DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
        );
        CREATE TABLE results (
            id INTEGER PRIMARY KEY,
            match_id INTEGER NOT NULL REFERENCES matches(id),
            seed INTEGER NOT NULL,
            return_a REAL NOT NULL,
            return_b REAL NOT NULL,
            outcome REAL,  -- score of A on this seed: 1, 0.5, 0; NULL when not rated (mixed)
            UNIQUE (match_id, seed)
        );
        CREATE TABLE episodes (  -- one replay each: re-simulated exactly from seed + actions
            id INTEGER PRIMARY KEY,
            match_id INTEGER NOT NULL REFERENCES matches(id),
            seed INTEGER NOT NULL,
            side INTEGER NOT NULL,  -- 0: A's team (or A in the even seats), 1: B's
            seats TEXT NOT NULL,    -- json: per agent, 0 = A's policy, 1 = B's
            team_return REAL NOT NULL,
            steps INTEGER NOT NULL,
            game TEXT NOT NULL,
            game_kwargs TEXT,       -- json
            actions BLOB NOT NULL,  -- uint8 (steps, n_agents), 255 = agent gone
            checksums BLOB NOT NULL -- uint32 (steps,), crc32 of env.state() after each step
        );
        CREATE INDEX results_match ON results(match_id);
        CREATE INDEX episodes_match ON episodes(match_id);
        CREATE INDEX matches_players ON matches(player_a, player_b);
        """
    )


@migration
def m003_partner_scores_generation_partners(db: Database) -> None:
    db.executescript(
        """
        CREATE TABLE generation_partners (  -- who a generation trained with besides itself (league manager)
            generation_id INTEGER NOT NULL REFERENCES generations(id),
            partner TEXT NOT NULL,  -- a generation name ('default/beta/g2') or a baseline ('scripted')
            PRIMARY KEY (generation_id, partner)
        );
        CREATE TABLE partner_scores (  -- `league partners`: play with partners never trained with
            generation_id INTEGER NOT NULL REFERENCES generations(id),
            partner TEXT NOT NULL,  -- a style ('slow') or a generation name
            kind TEXT NOT NULL CHECK (kind IN ('style', 'generation')),
            seats TEXT NOT NULL,    -- json: the seats the partner took, one at a time
            episodes INTEGER NOT NULL,  -- per team: seeds x seats
            team_return REAL,
            team_return_ci REAL,    -- half-width of the 95% interval
            scripted_return REAL,   -- the scripted team with the same partner in the same seats (the 1.0)
            random_return REAL,     -- random play with the same partner (the 0.0)
            score REAL,             -- NULL when scripted is not surely better than random with this partner
            score_ci REAL,
            created_at TEXT DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
            PRIMARY KEY (generation_id, partner)
        );
        """
    )


@migration
def m004_scheduled_matches(db: Database) -> None:
    db.executescript(
        """
        CREATE TABLE scheduled_matches (  -- a generation's matches, fixed in the transaction that records it
            generation_id INTEGER NOT NULL REFERENCES generations(id),
            position INTEGER NOT NULL,  -- order of play (0, 1, ...)
            opponent TEXT NOT NULL,     -- player name: a generation's or a baseline's
            played INTEGER NOT NULL,    -- matches the league had before it: decides its seeds
            seeds INTEGER NOT NULL,
            match_id INTEGER UNIQUE REFERENCES matches(id),  -- NULL until it is played and stored
            PRIMARY KEY (generation_id, position)
        );
        """
    )


# ---- queries shared by several methods ----

_GENERATIONS_SQL = """
    SELECT g.*, t.name AS team, l.name AS league, l.id AS league_id,
           l.name || '/' || t.name || '/g' || g.number AS name
    FROM generations g JOIN teams t ON t.id = g.team_id JOIN leagues l ON l.id = t.league_id
"""
_GENERATION_NAME = re.compile(r"g([0-9]+)")  # ASCII digits only: int() would read '٢' as 2


def _encode(value: Any) -> str:
    """JSON text. numpy/torch scalars become plain numbers; sqlite-utils alone would store their repr()."""

    def scalar(x: Any) -> Any:
        if hasattr(x, "item"):
            return x.item()
        raise TypeError(f"{type(x).__name__} is not JSON serializable")

    return json.dumps(value, default=scalar)


REAL_COLUMNS = frozenset({"return_a", "return_b", "team_return", "score_a", "wall_time", "team_return_ci",
                          "scripted_return", "random_return", "score", "score_ci", "partner_score"})
INT_COLUMNS = frozenset({"id", "league_id", "team_id", "generation_id", "match_id", "parent_id", "player_a",
                         "player_b", "number", "seed", "seeds", "steps", "side", "train_steps", "iteration",
                         "episodes", "position", "played", "latest", "generations", "teams", "styles", "n"})
OUTCOMES, OUTCOMES_TEXT = frozenset({0, 0.5, 1}), "1, 0.5 or 0"


def _decode(row: dict, path: Path, names: tuple[str, ...]) -> dict:
    """A row with its JSON columns turned back into Python values, every value checked for what this version
    writes there (numbers finite, counts whole, outcomes 1, 0.5 or 0, tables tables, the `names` columns, league
    and team names, fit for a folder): a row changed outside coop-league is one StoreError naming it, not a
    traceback (or a file written outside --out) later."""
    out = {}
    for key, value in row.items():
        what = None
        if key in JSON_COLUMNS and value is not None:
            try:
                value = json.loads(value) if isinstance(value, str) else value
            except ValueError:
                what = "JSON"
            if value is not None and not isinstance(value, list if key == "seats" else dict):
                what = what or ("a list" if key == "seats" else "a table")
        elif key in REAL_COLUMNS and value is not None:
            if not isinstance(value, (int, float)) or not math.isfinite(value):
                what = "a finite number"
        elif key in INT_COLUMNS and value is not None:
            if not isinstance(value, int):
                what = "an integer"
        elif key == "outcome" and value is not None and value not in OUTCOMES:
            what = OUTCOMES_TEXT
        elif key in names and isinstance(value, str) and not LEAGUE_NAME.fullmatch(value):
            what = "a name of letters, digits, '_', '-' and '.'"
        if what:
            raise _damaged(path, key, value, what, row.get("id"))
        out[key] = value
    return out


def _damaged(path: Path, key: str, value: Any, what: str, row_id: Any = None) -> StoreError:
    """The one line that names a stored value this version would never have written."""
    where = f" (row id {row_id})" if isinstance(row_id, int) else ""
    return StoreError(f"{path}: stored {key} {value!r:.60}{where} is not {what}: the row was changed outside "
                      f"coop-league")


def _check_name(what: str, name: str) -> None:
    if not name or "/" in name:
        raise StoreError(f"{what} name {name!r} must be non-empty and contain no '/'")


def _first_line(e: BaseException) -> str:
    text = str(e).strip()
    return text.splitlines()[0] if text else type(e).__name__


@contextlib.contextmanager
def _errors(path: Path, doing: str) -> Iterator[None]:
    """sqlite3's failures as one StoreError line: a lock held too long, a damaged file, a full disk, a number too
    large. Constraint violations (IntegrityError) are left as they are: they are the caller's bug."""
    try:
        yield
    except sqlite3.IntegrityError:
        raise
    except sqlite3.DatabaseError as e:
        raise StoreError(f"cannot {doing} {path}: {_first_line(e)}") from e
    except OverflowError as e:
        raise StoreError(f"cannot {doing} {path}: an integer is out of range: the database holds integers from "
                         f"-2**63 to 2**63-1") from e


def _league_migrations(db: Database) -> list[str] | None:
    """The league migrations applied to `db`, in order, or None when it has none (a new file, or another
    program's database). Reads only."""
    has_table = db.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?",
                           [Migrations.migrations_table]).fetchone()[0]
    if not has_table:
        return None
    names = [row[0] for row in db.execute(
        f"SELECT name FROM {Migrations.migrations_table} WHERE migration_set = ? ORDER BY rowid", [migrations.name])]
    return names or None


def _refuse_newer(path: Path, applied: list[str] | None) -> None:
    unknown = [name for name in applied or () if name not in KNOWN_MIGRATIONS]
    if unknown:
        raise StoreError(f"{path} was written by a newer version of coop-league: it has migration(s) "
                         f"{', '.join(unknown)} that this version does not know; upgrade coop-league to use it")


class Store:
    """One open league database. Create with `Store.open(path, create=...)`; `close()` when done."""

    def __init__(self, db: Database, path: Path):
        self.db = db
        self.path = path

    # ---- opening ----

    @classmethod
    def open(cls, path: str | Path, create: bool) -> Store:
        """Open (or with `create`, create) the database at `path`, set its pragmas, apply pending migrations.

        Refused, with nothing written: a database with a migration this version does not know (written by a
        newer version), another program's SQLite database, and without `create` an empty file (readers never
        create a schema). A file that is not SQLite or is damaged is a StoreError too."""
        path = Path(path)
        if not create and not path.exists():
            raise StoreError(f"no database at {path} (run `league train` first)")
        if create and not path.parent.is_dir():
            raise StoreError(f"cannot create database {path}: directory {path.parent} does not exist")
        if path.exists() and not path.is_file():
            raise StoreError(f"cannot open database {path}: not a file")
        db = None
        try:
            with _errors(path, "open database"):
                db = Database(path)
                db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
                applied = _league_migrations(db)  # reads the header first: a non-SQLite file fails here
                _refuse_newer(path, applied)
                if applied is None:
                    tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                                       "AND name NOT LIKE 'sqlite_%' ORDER BY name")]
                    if tables:
                        raise StoreError(f"{path} is not a coop-league database: it holds another program's "
                                         f"tables ({', '.join(tables[:5])})")
                    if not create:
                        raise StoreError(f"{path} is not a coop-league database: it is "
                                         f"{'an empty file' if path.stat().st_size == 0 else 'an empty database'} "
                                         f"(run `league train` to make one)")
                db.enable_wal()
                db.execute("PRAGMA foreign_keys = ON")
                db.execute("PRAGMA synchronous = NORMAL")
                store = cls(db, path)
                if applied != KNOWN_MIGRATIONS:
                    with store.transaction():  # write lock first: a second process waits, then finds it done
                        _refuse_newer(path, _league_migrations(db))
                        migrations.apply(db)
        except BaseException:
            if db is not None:
                db.close()
            raise
        return store

    def close(self) -> None:
        self.db.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """One write transaction, rolled back on any error; nested ones are savepoints of the outer one.

        BEGIN IMMEDIATE takes the write lock at the start, waiting up to BUSY_TIMEOUT_MS for another writer
        to finish: a transaction that began as a reader could not take it later without failing at once
        ("database is locked"). A lock held too long, a full disk or a damaged file becomes a StoreError."""
        conn = self.db.conn
        if conn.in_transaction:
            with _errors(self.path, "write to"), self.db.atomic():
                yield
            return
        if not os.access(self.path, os.W_OK):  # SQLite would open it read-only and fail at the first change
            raise StoreError(f"cannot write to {self.path}: the file is read-only (its permissions or an immutable "
                             f"flag); nothing was changed")
        with _errors(self.path, "write to"):
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            try:
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise

    def _rows(self, sql: str, params: list | tuple = (), names: tuple[str, ...] = ()) -> list[dict]:
        """Rows of `sql`, decoded and checked (`_decode`); `names` are columns holding a league's or team's name."""
        with _errors(self.path, "read"):
            names = ("league", "team", *names)
            return [_decode(r, self.path, names) for r in self.db.query(sql, params)]

    # ---- leagues ----

    def ensure_league(self, name: str, game: str, game_kwargs: dict, config: dict) -> dict:
        """The league `name`, created if absent. An existing league keeps its game, kwargs and config."""
        _check_name("league", name)
        with self.transaction():
            if not self._rows("SELECT id FROM leagues WHERE name = ?", [name]):
                self.db["leagues"].insert(
                    dict(name=name, game=game, game_kwargs=_encode(game_kwargs), config=_encode(config))
                )
            league = self.league(name)
            if league["game"] != game:
                raise StoreError(f"league {name!r} plays {league['game']!r}, not {game!r}")
        return league

    def league(self, name: str) -> dict:
        rows = self._rows("SELECT * FROM leagues WHERE name = ?", [name], names=("name",))
        if not rows:
            known = ", ".join(r["name"] for r in self._rows("SELECT name FROM leagues ORDER BY name"))
            raise StoreError(f"unknown league {name!r}; known leagues: {known or '(none)'}")
        return rows[0]

    def leagues(self) -> list[dict]:
        """All leagues, each with `teams` and `generations` counts."""
        return self._rows(
            """
            SELECT l.*,
                   (SELECT count(*) FROM teams t WHERE t.league_id = l.id) AS teams,
                   (SELECT count(*) FROM generations g JOIN teams t ON t.id = g.team_id
                    WHERE t.league_id = l.id) AS generations
            FROM leagues l ORDER BY l.name
            """,
            names=("name",),
        )

    # ---- teams ----

    def ensure_team(self, league_id: int, name: str, seed: int, config: dict) -> dict:
        """The team `name` of the league, created if absent. An existing team keeps its seed and config."""
        _check_name("team", name)
        with self.transaction():
            if not self._rows("SELECT id FROM teams WHERE league_id = ? AND name = ?", [league_id, name]):
                self.db["teams"].insert(dict(league_id=league_id, name=name, seed=seed, config=_encode(config)))
        return self.team(league_id, name)

    def teams(self, league_id: int) -> list[dict]:
        """The league's teams, each with `generations` (a count) and `latest` (its newest number, or None)."""
        return self._rows(
            """
            SELECT t.*, count(g.id) AS generations, max(g.number) AS latest
            FROM teams t LEFT JOIN generations g ON g.team_id = t.id
            WHERE t.league_id = ? GROUP BY t.id ORDER BY t.name
            """,
            [league_id],
            names=("name",),
        )

    def team(self, league_id: int, name: str) -> dict:
        rows = self._rows("SELECT * FROM teams WHERE league_id = ? AND name = ?", [league_id, name], names=("name",))
        if not rows:
            known = ", ".join(t["name"] for t in self.teams(league_id))
            raise StoreError(f"unknown team {name!r}; known teams: {known or '(none)'}")
        return rows[0]

    # ---- generations ----

    def latest_generation(self, team_id: int) -> dict | None:
        rows = self._rows(_GENERATIONS_SQL + " WHERE g.team_id = ? ORDER BY g.number DESC LIMIT 1", [team_id])
        return self._usable(rows[0]) if rows else None

    def _usable(self, generation: dict) -> dict:
        """A generation row whose checkpoint can be found and verified: a row without its path or sha256 (changed
        outside coop-league) is a StoreError wherever it would be used, never a load without the hash check."""
        missing = [column for column in ("checkpoint", "sha256")
                   if not isinstance(generation[column], str) or not generation[column]]
        if missing:
            raise StoreError(f"generation {generation['name']} in {self.path} has no {' and no '.join(missing)} "
                             f"recorded (the row was changed outside coop-league): its checkpoint cannot be verified")
        return generation

    def add_generation(
        self,
        team_id: int,
        number: int,
        parent_id: int | None,
        checkpoint: str,
        sha256: str,
        config: dict,
        train_steps: int,
        wall_time: float,
        metrics: dict,
        iterations: list[dict],
        partners: Sequence[str] = (),
    ) -> dict:
        """Store a new generation, its per-iteration metrics, its player and the partners it trained with
        (`add_generation_partners`), all in one transaction.

        `number` must be the team's latest number + 1 (0 for a team's first). An iteration's number is its
        "iteration" key if it has one, else its index in `iterations`.
        """
        for what, value in (("checkpoint path", checkpoint), ("sha256", sha256)):
            if not isinstance(value, str) or not value:
                raise StoreError(f"a generation needs its {what}, got {value!r}")
        with self.transaction():
            latest = self.latest_generation(team_id)
            expected = 0 if latest is None else latest["number"] + 1
            if number != expected:
                raise StoreError(f"generation number {number} refused: the team's next number is {expected}")
            generation_id = (
                self.db["generations"]
                .insert(
                    dict(
                        team_id=team_id,
                        number=number,
                        parent_id=parent_id,
                        checkpoint=checkpoint,
                        sha256=sha256,
                        config=_encode(config),
                        train_steps=train_steps,
                        wall_time=wall_time,
                        metrics=_encode(metrics),
                    )
                )
                .last_pk
            )
            self.db["training_metrics"].insert_all(
                dict(generation_id=generation_id, iteration=it.get("iteration", i), metrics=_encode(it))
                for i, it in enumerate(iterations)
            )
            generation = self.generation(generation_id)
            self.db["players"].insert(
                dict(
                    league_id=generation["league_id"],
                    name=generation["name"],
                    kind="generation",
                    generation_id=generation_id,
                )
            )
            if partners:
                self.add_generation_partners(generation_id, list(partners))
        return generation

    def generation(self, name_or_id: str | int, league: str | None = None) -> dict:
        """A generation by id, by "league/team/gN", or by "team/gN" within `league`."""
        if isinstance(name_or_id, int) or name_or_id.isdigit():
            rows = self._rows(_GENERATIONS_SQL + " WHERE g.id = ?", [int(name_or_id)])
            if not rows:
                raise StoreError(f"no generation with id {name_or_id}")
            return self._usable(rows[0])
        parts = name_or_id.split("/")
        if len(parts) == 2 and league is not None:
            parts.insert(0, league)
        number = _GENERATION_NAME.fullmatch(parts[-1])
        if len(parts) != 3 or number is None:
            raise StoreError(
                f"bad generation name {name_or_id!r}: expected 'league/team/gN'"
                + ("" if league is None else " or 'team/gN'")
            )
        team = self.team(self.league(parts[0])["id"], parts[1])
        rows = self._rows(_GENERATIONS_SQL + " WHERE g.team_id = ? AND g.number = ?", [team["id"], int(number[1])])
        if not rows:
            latest = self.teams(team["league_id"])
            latest = next(t["latest"] for t in latest if t["id"] == team["id"])
            have = "no generations" if latest is None else f"generations g0..g{latest}"
            raise StoreError(f"unknown generation {name_or_id!r}: team {parts[1]!r} has {have}")
        return self._usable(rows[0])

    def generations(self, league_id: int, team: str | None = None) -> list[dict]:
        """The league's generations (or one team's), oldest first within each team, each with its `name`."""
        if team is None:
            return self._rows(_GENERATIONS_SQL + " WHERE l.id = ? ORDER BY t.name, g.number", [league_id])
        team_id = self.team(league_id, team)["id"]
        return self._rows(_GENERATIONS_SQL + " WHERE g.team_id = ? ORDER BY g.number", [team_id])

    def training_metrics(self, generation_id: int) -> list[dict]:
        return self._rows(
            "SELECT * FROM training_metrics WHERE generation_id = ? ORDER BY iteration", [generation_id]
        )

    # ---- players ----

    def ensure_player(self, league_id: int, name: str, kind: str, generation_id: int | None = None) -> dict:
        """A player of the league ('random', 'scripted', 'human:<name>', ...), created if absent."""
        if kind not in PLAYER_KINDS:
            raise StoreError(f"unknown player kind {kind!r}; kinds: {', '.join(PLAYER_KINDS)}")
        with self.transaction():
            rows = self._rows("SELECT * FROM players WHERE league_id = ? AND name = ?", [league_id, name])
            if not rows:
                self.db["players"].insert(
                    dict(league_id=league_id, name=name, kind=kind, generation_id=generation_id)
                )
                rows = self._rows("SELECT * FROM players WHERE league_id = ? AND name = ?", [league_id, name])
        player = rows[0]
        if player["kind"] != kind:
            raise StoreError(f"player {name!r} already exists as a {player['kind']!r}, not a {kind!r}")
        return player

    def player(self, league_id: int, name: str) -> dict:
        """An existing player by name; unknown names raise a StoreError that lists a few known ones."""
        rows = self._rows("SELECT * FROM players WHERE league_id = ? AND name = ?", [league_id, name])
        if not rows:
            known = [r["name"] for r in self._rows("SELECT name FROM players WHERE league_id = ? ORDER BY id",
                                                   [league_id])]
            raise StoreError(f"unknown player {name!r}; players include: {', '.join(known[:12]) or 'none'}")
        return rows[0]

    # ---- matches ----

    def add_match(self, league_id: int, kind: str, player_a: int, player_b: int, result: Any,
                  scheduled: tuple[int, int] | None = None) -> dict:
        """A played match with its per-seed results and every episode's replay, in one transaction.

        With `scheduled` = (generation id, position) the match fills that slot of the generation's schedule
        (`schedule_matches`) in the same transaction, so a slot is played once however the run dies. A slot
        already filled (by another process training the same league) stays as it is: its match is returned
        and nothing is added."""
        rated = [o for o in result.outcomes if o is not None]
        with self.transaction():
            if scheduled is not None:
                slot = self._rows("SELECT match_id FROM scheduled_matches WHERE generation_id = ? AND position = ?",
                                  list(scheduled))
                if not slot:
                    raise StoreError(f"generation {scheduled[0]} has no scheduled match {scheduled[1]}")
                if slot[0]["match_id"] is not None:
                    return self.match(slot[0]["match_id"])
            match_id = self.db["matches"].insert(dict(
                league_id=league_id, kind=kind, player_a=player_a, player_b=player_b, seeds=len(result.seeds),
                score_a=float(sum(rated)) if rated else None)).last_pk
            self.db["results"].insert_all(
                dict(match_id=match_id, seed=seed, return_a=ra, return_b=rb, outcome=o)
                for seed, ra, rb, o in zip(result.seeds, result.returns_a, result.returns_b, result.outcomes))
            per_side = len(result.episodes) // 2 if len(result.episodes) > 1 else 1
            self.db["episodes"].insert_all(dict(match_id=match_id, side=i // per_side, **episode_columns(e))
                                           for i, e in enumerate(result.episodes))
            if scheduled is not None:
                self.db.execute("UPDATE scheduled_matches SET match_id = ? WHERE generation_id = ? AND position = ?",
                                [match_id, *scheduled])
        return self.match(match_id)

    def match_count(self, league_id: int) -> int:
        """How many matches the league has stored (of every kind): the next match's seeds follow from it."""
        return self._rows("SELECT count(*) AS n FROM matches WHERE league_id = ?", [league_id])[0]["n"]

    def schedule_matches(self, generation_id: int, opponents: Sequence[str], seeds: int) -> list[dict]:
        """Fixes a new generation's matches (call it in the transaction that records the generation): the k-th
        against `opponents[k]` with `seeds` seeds, the seeds of the match that follows `played + k`, `played`
        being the league's matches now. A generation keeps the schedule it was given first. Returns it."""
        with self.transaction():
            generation = self.generation(generation_id)
            if existing := self.scheduled_matches(generation_id):
                return existing
            played = self.match_count(generation["league_id"])
            self.db["scheduled_matches"].insert_all(
                dict(generation_id=generation_id, position=k, opponent=opponent, played=played + k, seeds=seeds)
                for k, opponent in enumerate(opponents))
        return self.scheduled_matches(generation_id)

    def unplayed_scheduled_matches(self, league_id: int) -> int:
        """How many scheduled matches of the league's generations are not stored yet (another process may be
        playing them): a new generation's schedule must wait for them, as it would in an uninterrupted run."""
        return self._rows("SELECT count(*) AS n FROM scheduled_matches s JOIN generations g ON g.id = s.generation_id "
                          "JOIN teams t ON t.id = g.team_id WHERE t.league_id = ? AND s.match_id IS NULL",
                          [league_id])[0]["n"]

    def scheduled_matches(self, generation_id: int) -> list[dict]:
        """A generation's scheduled matches in order of play: position, opponent, played (matches before it),
        seeds, and match_id (None until it is played). Empty for generations recorded before schedules were
        stored (and for an empty schedule)."""
        return self._rows("SELECT * FROM scheduled_matches WHERE generation_id = ? ORDER BY position",
                          [generation_id])

    _MATCHES_SQL = """
        SELECT m.*, pa.name AS name_a, pb.name AS name_b FROM matches m
        JOIN players pa ON pa.id = m.player_a JOIN players pb ON pb.id = m.player_b
    """

    def match(self, match_id: int) -> dict:
        """A match with its per-seed results."""
        rows = self._rows(self._MATCHES_SQL + " WHERE m.id = ?", [match_id])
        if not rows:
            raise StoreError(f"no match with id {match_id}")
        match = rows[0]
        match["results"] = self._rows("SELECT seed, return_a, return_b, outcome FROM results WHERE match_id = ? "
                                      "ORDER BY seed", [match_id])
        return match

    def matches(self, league_id: int, kind: str | None = None, player: str | None = None) -> list[dict]:
        """The league's matches, newest first; optionally of one kind or involving one player."""
        sql, params = self._MATCHES_SQL + " WHERE m.league_id = ?", [league_id]
        if kind:
            sql, params = sql + " AND m.kind = ?", params + [kind]
        if player:
            sql, params = sql + " AND (pa.name = ? OR pb.name = ?)", params + [player, player]
        return self._rows(sql + " ORDER BY m.id DESC", params)

    def episodes(self, match_id: int) -> list[Episode]:
        """A match's episodes (replays) in play order."""
        return [episode_from_columns(row)
                for row in self._rows("SELECT * FROM episodes WHERE match_id = ? ORDER BY id", [match_id])]

    def rated_results(self, league_id: int) -> list[tuple[str, str, float]]:
        """Every rated seed of the league as (player a, player b, score of a): the input of the rating fit."""
        with _errors(self.path, "read"):  # the league's every result: read raw, checked in one pass
            rows = self.db.execute(
                "SELECT pa.name, pb.name, r.outcome FROM results r JOIN matches m ON m.id = r.match_id "
                "JOIN players pa ON pa.id = m.player_a JOIN players pb ON pb.id = m.player_b "
                "WHERE m.league_id = ? AND r.outcome IS NOT NULL AND m.player_a != m.player_b",  # self-play: no info
                [league_id]).fetchall()
        bad = next((o for _, _, o in rows if o not in OUTCOMES), None)
        if bad is not None:
            raise _damaged(self.path, "outcome", bad, OUTCOMES_TEXT)
        return [(a, b, float(o)) for a, b, o in rows]

    def games_played(self, league_id: int) -> dict[str, int]:
        """Rated seeds per player name (players without any count 0)."""
        counts = {r["name"]: 0 for r in self._rows("SELECT name FROM players WHERE league_id = ?", [league_id])}
        for a, b, _ in self.rated_results(league_id):
            counts[a] = counts.get(a, 0) + 1
            counts[b] = counts.get(b, 0) + 1
        return counts

    def mixed_results(self, league_id: int) -> list[dict]:
        """Every mixed-team episode: player names by seat and the team return (for the cross-play matrix)."""
        return self._rows(
            "SELECT pa.name AS name_a, pb.name AS name_b, e.side, e.seats, e.team_return FROM episodes e "
            "JOIN matches m ON m.id = e.match_id JOIN players pa ON pa.id = m.player_a "
            "JOIN players pb ON pb.id = m.player_b WHERE m.league_id = ? AND m.kind = 'mixed'", [league_id])

    # ---- partners: who a generation trained with, and how it plays with partners it never met ----

    def add_generation_partners(self, generation_id: int, partners: list[str]) -> None:
        """Records the partners a generation trained with (generation names or 'scripted'); rerunning with the
        same names adds nothing."""
        with self.transaction():
            self.generation(generation_id)  # unknown id: StoreError
            for partner in partners:
                if not partner:
                    raise StoreError("a partner name must be non-empty")
                self.db.execute("INSERT OR IGNORE INTO generation_partners (generation_id, partner) VALUES (?, ?)",
                                [generation_id, partner])

    def generation_partners(self, generation_id: int) -> list[str]:
        """The partners a generation trained with, sorted (empty: it trained only with itself)."""
        return [r["partner"] for r in self._rows(
            "SELECT partner FROM generation_partners WHERE generation_id = ? ORDER BY partner", [generation_id])]

    def add_partner_scores(self, generation_id: int, rows: list[dict]) -> list[dict]:
        """Stores a generation's partner scores (keys as in the `partner_scores` table, `seats` a list), one
        transaction; a partner scored before is replaced. Returns the generation's stored scores."""
        columns = ("partner", "kind", "seats", "episodes", "team_return", "team_return_ci", "scripted_return",
                   "random_return", "score", "score_ci")
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        with self.transaction():
            for row in rows:
                record = {k: row.get(k) for k in columns}
                self.db["partner_scores"].upsert(
                    dict(record, generation_id=generation_id, seats=_encode(record["seats"]), created_at=now),
                    pk=("generation_id", "partner"))
        return self.partner_scores(generation_id)

    _PARTNER_SCORES_SQL = """
        SELECT p.*, g.name AS generation FROM partner_scores p
        JOIN (""" + _GENERATIONS_SQL + """) g ON g.id = p.generation_id
    """

    def partner_scores(self, generation_id: int) -> list[dict]:
        """A generation's stored partner scores: styles first, then generations, by name."""
        return self._rows(self._PARTNER_SCORES_SQL + " WHERE p.generation_id = ? ORDER BY p.kind DESC, p.partner",
                          [generation_id])

    def league_partner_scores(self, league_id: int) -> list[dict]:
        """Every stored partner score of the league, by generation then partner."""
        return self._rows(self._PARTNER_SCORES_SQL + " WHERE g.league_id = ? ORDER BY g.name, p.kind DESC, "
                          "p.partner", [league_id])

    def best_partner_generation(self, league_id: int) -> dict | None:
        """The league's generation with the highest mean score over its style partners (`partner_score`, with
        `styles` the number of them), or None when no generation has one."""
        rows = self._rows(
            "SELECT g.*, avg(p.score) AS partner_score, count(p.score) AS styles FROM partner_scores p "
            "JOIN (" + _GENERATIONS_SQL + ") g ON g.id = p.generation_id "
            "WHERE g.league_id = ? AND p.kind = 'style' AND p.score IS NOT NULL "
            "GROUP BY g.id ORDER BY partner_score DESC, g.id DESC LIMIT 1", [league_id])
        return rows[0] if rows else None
