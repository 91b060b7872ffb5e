"""The store: migrations, pragmas, generations and their names, transactions, errors that say what exists."""

import hashlib
import sqlite3
import time

import numpy as np
import pytest

from conftest import one_error_line
from league.store import KNOWN_MIGRATIONS, Store, StoreError


@pytest.fixture
def store(tmp_path):
    s = Store.open(tmp_path / "league.db", create=True)
    yield s
    s.close()


@pytest.fixture
def team(store):
    league = store.ensure_league("lg", "simple_spread", {"N": 3}, {"rounds": 2})
    return store.ensure_team(league["id"], "red", seed=1, config={"lr": 0.001})


def add(store, team, number, parent_id=None, iterations=({"loss": 1.0}, {"loss": 0.5})):
    return store.add_generation(
        team["id"], number, parent_id, f"ck/{number}.pt", "ab" * 32, {"lr": 0.001}, 100, 1.5, {"return": 2.0},
        list(iterations),
    )


def test_migrations_are_applied_once_and_rerunnable(tmp_path):
    path = tmp_path / "league.db"
    for _ in range(2):
        Store.open(path, create=True).close()
    s = Store.open(path, create=False)
    applied = list(s.db.query("SELECT migration_set, name FROM _sqlite_migrations"))
    assert {r["migration_set"] for r in applied} == {"league"}
    names = [r["name"] for r in applied]
    assert len(names) == len(set(names)) == len(KNOWN_MIGRATIONS) == 4  # each migration recorded exactly once
    assert names == KNOWN_MIGRATIONS
    assert {"leagues", "teams", "generations", "training_metrics", "players"} <= set(s.db.table_names())
    s.close()


def test_pragmas(store):
    assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert store.db.execute("PRAGMA busy_timeout").fetchone()[0] == 10_000
    with pytest.raises(sqlite3.IntegrityError):
        store.db["teams"].insert({"league_id": 999, "name": "orphan"})


def test_leagues_and_teams(store, team):
    again = store.ensure_league("lg", "simple_spread", {"N": 5}, {})
    assert again["game_kwargs"] == {"N": 3} and again["config"] == {"rounds": 2}
    with pytest.raises(StoreError, match="'simple_spread', not 'pursuit'"):
        store.ensure_league("lg", "pursuit", {}, {})
    assert store.ensure_team(again["id"], "red", seed=9, config={})["id"] == team["id"]
    assert team["config"] == {"lr": 0.001}
    add(store, team, 0)
    [lg] = store.leagues()
    assert (lg["name"], lg["teams"], lg["generations"]) == ("lg", 1, 1)
    store.ensure_team(lg["id"], "blue", seed=2, config={})
    assert [(t["name"], t["generations"], t["latest"]) for t in store.teams(lg["id"])] == [
        ("blue", 0, None),
        ("red", 1, 0),
    ]
    with pytest.raises(StoreError, match="must be non-empty and contain no '/'"):
        store.ensure_team(lg["id"], "a/b", seed=0, config={})


def test_add_list_and_resolve_generations(store, team):
    assert store.latest_generation(team["id"]) is None
    g0 = add(store, team, 0)
    g1 = add(store, team, 1, parent_id=g0["id"], iterations=[{"iteration": 7, "loss": np.float32(0.25)}])
    assert g1["name"] == "lg/red/g1" and g1["parent_id"] == g0["id"]
    assert g1["config"] == {"lr": 0.001} and g1["metrics"] == {"return": 2.0}
    assert store.latest_generation(team["id"])["id"] == g1["id"]
    assert [g["name"] for g in store.generations(team["league_id"])] == ["lg/red/g0", "lg/red/g1"]
    assert [g["name"] for g in store.generations(team["league_id"], team="red")] == ["lg/red/g0", "lg/red/g1"]
    assert store.generation("lg/red/g1")["id"] == g1["id"]
    assert store.generation("red/g0", league="lg")["id"] == g0["id"]
    assert store.generation(g1["id"])["name"] == "lg/red/g1"
    assert store.generation(str(g0["id"]))["name"] == "lg/red/g0"
    assert [(m["iteration"], m["metrics"]["loss"]) for m in store.training_metrics(g0["id"])] == [(0, 1.0), (1, 0.5)]
    assert store.training_metrics(g1["id"])[0]["iteration"] == 7
    assert store.training_metrics(g1["id"])[0]["metrics"]["loss"] == 0.25  # a number, not "np.float32(0.25)"
    player = store.db.execute("SELECT name, kind, generation_id FROM players").fetchall()
    assert player == [("lg/red/g0", "generation", g0["id"]), ("lg/red/g1", "generation", g1["id"])]


def test_generation_number_must_be_next(store, team):
    with pytest.raises(StoreError, match="next number is 0"):
        add(store, team, 1)
    add(store, team, 0)
    for bad in (0, 2):
        with pytest.raises(StoreError, match="next number is 1"):
            add(store, team, bad)


@pytest.mark.parametrize(
    "make_second_insert_fail",
    [
        lambda store, team: [{"iteration": 3}, {"iteration": 3}],  # duplicate iteration: training_metrics fails
        lambda store, team: store.ensure_player(team["league_id"], "lg/red/g0", "random") and [],  # players fails
    ],
)
def test_failed_write_leaves_nothing(store, team, make_second_insert_fail):
    iterations = make_second_insert_fail(store, team)
    with pytest.raises(sqlite3.IntegrityError):
        add(store, team, 0, iterations=iterations)
    assert store.db["generations"].count == 0
    assert store.db["training_metrics"].count == 0
    assert store.db.execute("SELECT count(*) FROM players WHERE kind = 'generation'").fetchone()[0] == 0
    assert not store.db.conn.in_transaction


def test_players(store, team):
    lid = team["league_id"]
    human = store.ensure_player(lid, "human:ann", "human")
    assert store.ensure_player(lid, "human:ann", "human")["id"] == human["id"]
    assert store.ensure_player(lid, "random", "random")["kind"] == "random"
    with pytest.raises(StoreError, match="already exists as a 'human'"):
        store.ensure_player(lid, "human:ann", "scripted")
    with pytest.raises(StoreError, match="unknown player kind 'robot'"):
        store.ensure_player(lid, "r2", "robot")


def test_missing_database_is_not_created(tmp_path):
    path = tmp_path / "nope.db"
    with pytest.raises(StoreError, match=r"no database at .*nope.db \(run `league train` first\)"):
        Store.open(path, create=False)
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(StoreError, match="does not exist"):
        Store.open(tmp_path / "no" / "dir" / "x.db", create=True)


def test_garbage_file_is_not_a_database(tmp_path):
    path = tmp_path / "garbage.db"
    path.write_bytes(b"this is not sqlite at all " * 100)
    with pytest.raises(StoreError, match="file is not a database"):
        Store.open(path, create=False)


def test_reader_reads_while_a_writer_holds_a_transaction(tmp_path, team):
    path = tmp_path / "league.db"
    writer = Store.open(path, create=False)
    with writer.db.atomic():
        writer.ensure_league("other", "pursuit", {}, {})
        start = time.monotonic()
        reader = Store.open(path, create=False)
        assert [lg["name"] for lg in reader.leagues()] == ["lg"]  # the writer's league is not committed yet
        assert time.monotonic() - start < 2  # WAL: the reader did not wait on the writer's lock
    assert [lg["name"] for lg in reader.leagues()] == ["lg", "other"]
    reader.close()
    writer.close()


def test_unknown_names_list_what_exists(store, team):
    lid = team["league_id"]
    add(store, team, 0)
    with pytest.raises(StoreError, match="unknown league 'nope'; known leagues: lg"):
        store.league("nope")
    with pytest.raises(StoreError, match="unknown team 'blue'; known teams: red"):
        store.team(lid, "blue")
    with pytest.raises(StoreError, match="known leagues: lg"):
        store.generation("nope/red/g0")
    with pytest.raises(StoreError, match="known teams: red"):
        store.generation("blue/g0", league="lg")
    with pytest.raises(StoreError, match="team 'red' has generations g0..g0"):
        store.generation("lg/red/g4")
    with pytest.raises(StoreError, match="no generation with id 999"):
        store.generation(999)
    for bad in ("red/g0", "lg/red/4", "lg/red/g", "a/b/c/g1"):
        with pytest.raises(StoreError, match="bad generation name"):
            store.generation(bad)


# ---- refusals: a newer database, files that are not ours, tampered rows, numbers SQLite cannot hold ----

def cli(*args):
    from click.testing import CliRunner

    from league.cli import cli as league_cli

    return CliRunner().invoke(league_cli, list(args))


def snapshot(path):
    """The database's bytes and any WAL/SHM files next to it."""
    return {p.name: p.read_bytes() for p in sorted(path.parent.glob(path.name + "*"))}


def test_a_database_of_a_newer_version_is_refused_and_left_untouched(tmp_path, store, team):
    add(store, team, 0)
    store.close()
    path = tmp_path / "league.db"
    con = sqlite3.connect(path)  # what a later version would have recorded: a migration this one does not know
    con.execute("INSERT INTO _sqlite_migrations (migration_set, name, applied_at) VALUES "
                "('league', 'm099_from_the_future', '2099-01-01 00:00:00+00:00')")
    con.execute("ALTER TABLE generations RENAME COLUMN sha256 TO digest")  # ... and changed a column
    con.commit()
    con.close()
    before = snapshot(path)
    for create in (True, False):
        with pytest.raises(StoreError, match=r"written by a newer version of coop-league: .*m099_from_the_future"
                                             r".*; upgrade"):
            Store.open(path, create=create)
    assert snapshot(path) == before
    one_error_line(cli("generations", "--db", str(path)), "newer version of coop-league", "upgrade")
    one_error_line(cli("train", "--db", str(path), "--league", "lg", "--generations", "0"), "newer version")
    assert snapshot(path) == before


@pytest.mark.parametrize("kind", ["empty file", "SQLite database without tables"])
def test_a_reader_never_makes_a_schema_in_an_empty_file(tmp_path, kind):
    path = tmp_path / "empty.db"
    path.write_bytes(b"")
    if kind != "empty file":
        con = sqlite3.connect(path)
        con.execute("PRAGMA user_version = 7")  # writes the header, nothing else
        con.close()
    content = path.read_bytes()
    with pytest.raises(StoreError, match="not a coop-league database"):
        Store.open(path, create=False)
    for command in ("leagues", "generations", "ratings"):
        one_error_line(cli(command, "--db", str(path)), "not a coop-league database")
    assert [p.name for p in tmp_path.iterdir()] == ["empty.db"] and path.read_bytes() == content


def test_another_programs_database_is_refused(tmp_path):
    path = tmp_path / "other.db"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY)")
    con.commit()
    con.close()
    before = snapshot(path)
    for create in (True, False):
        with pytest.raises(StoreError, match=r"not a coop-league database: .*another program's tables \(invoices\)"):
            Store.open(path, create=create)
    assert snapshot(path) == before


def test_a_damaged_file_is_one_error_line(tmp_path, store, team):
    rng = np.random.default_rng(0)
    noise = tmp_path / "noise.db"
    noise.write_bytes(rng.bytes(8192))
    one_error_line(cli("leagues", "--db", str(noise)), "not a database")
    add(store, team, 0)
    root, page = store.db.execute("SELECT rootpage, (SELECT page_size FROM pragma_page_size()) FROM sqlite_master "
                                  "WHERE name = 'generations'").fetchone()
    store.close()
    data = bytearray((tmp_path / "league.db").read_bytes())
    damaged = tmp_path / "damaged.db"  # the schema reads well; the generations' page is random bytes
    data[(root - 1) * page:root * page] = rng.bytes(page)
    damaged.write_bytes(bytes(data))
    one_error_line(cli("generations", "--db", str(damaged), "--league", "lg"), str(damaged), "malformed")
    header_only = tmp_path / "header.db"  # a real header, then random pages
    header_only.write_bytes(bytes(data[:100]) + rng.bytes(len(data) - 100))
    one_error_line(cli("leagues", "--db", str(header_only)), str(header_only))


@pytest.mark.parametrize("column", ["sha256", "checkpoint"])
def test_a_generation_without_its_hash_or_path_is_refused_where_used(tmp_path, store, team, column):
    from league.players import portable_player

    checkpoint = tmp_path / "g0.pt"
    checkpoint.write_bytes(b"weights")
    g0 = store.add_generation(team["id"], 0, None, str(checkpoint), hashlib.sha256(b"weights").hexdigest(), {}, 0,
                              0.0, {}, [])
    store.db.execute(f"UPDATE generations SET {column} = NULL WHERE id = ?", [g0["id"]])
    league = store.league("lg")
    needle = rf"generation lg/red/g0 in .* has no {column} recorded"
    for use in (lambda: store.generation("lg/red/g0"), lambda: store.generation(g0["id"]),
                lambda: store.latest_generation(team["id"]), lambda: portable_player(store, league, "lg/red/g0"),
                lambda: add(store, team, 1, parent_id=g0["id"])):
        with pytest.raises(StoreError, match=needle):  # never a load that skips the hash check, never a crash
            use()
    one_error_line(cli("show", "lg/red/g0", "--db", str(store.path)), "lg/red/g0", column)
    with pytest.raises(StoreError, match="needs its sha256"):
        store.add_generation(team["id"], 1, None, "x.pt", None, {}, 0, 0.0, {}, [])


def test_integers_sqlite_cannot_hold_are_store_errors(store, team):
    too_big = 2**63
    lid = team["league_id"]
    for call in (lambda: store.generation(too_big), lambda: store.generation(str(too_big * 10)),
                 lambda: store.generation(f"lg/red/g{too_big}"), lambda: store.match(too_big),
                 lambda: store.latest_generation(-too_big - 1), lambda: store.ensure_team(lid, "blue", too_big, {}),
                 lambda: store.teams(too_big), lambda: store.ensure_player(too_big, "random", "random"),
                 lambda: store.add_generation(team["id"], 0, too_big, "x.pt", "ab" * 32, {}, 0, 0.0, {}, []),
                 lambda: store.add_generation(team["id"], 0, None, "x.pt", "ab" * 32, {}, too_big, 0.0, {}, [])):
        with pytest.raises(StoreError, match="out of range"):
            call()
    with pytest.raises(StoreError, match=f"generation number {too_big} refused: the team's next number is 0"):
        store.add_generation(team["id"], too_big, None, "x.pt", "ab" * 32, {}, 0, 0.0, {}, [])
    assert store.db["generations"].count == 0 and [t["name"] for t in store.teams(lid)] == ["red"]
    assert not store.db.conn.in_transaction
    one_error_line(cli("show", str(too_big * 10), "--db", str(store.path)), "out of range")
