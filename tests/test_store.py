"""The store: migrations, pragmas, generations and their names, transactions, errors that say what exists."""

import sqlite3
import time

import numpy as np
import pytest

from league.store import Store, StoreError


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
    assert len(names) == len(set(names)) == 3  # each migration recorded exactly once
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
