"""psycopg2 against a paxosql node: parameters, types, transactions, errors.

Run by psycopg2.test.ts as `/usr/bin/python3 psycopg2_client.py <dsn>`. Prints one
line per check ("ok <name>") and exits non-zero with the failing check's name and
values on the first mismatch, so the test's output says what broke.
"""

import datetime
import decimal
import json
import sys
import uuid

import psycopg2
import psycopg2.errors
import psycopg2.extras


def check(name, actual, expected):
    if actual != expected:
        print(f"FAIL {name}: expected {expected!r}, got {actual!r}", flush=True)
        sys.exit(1)
    print(f"ok {name}", flush=True)


def main(dsn):
    psycopg2.extras.register_uuid()
    conn = psycopg2.connect(dsn)
    cur = conn.cursor()

    # psycopg2 opens a transaction implicitly before the first statement.
    cur.execute(
        "CREATE TABLE py_types (id serial PRIMARY KEY, i int, big bigint, f double precision, "
        "n numeric(12, 3), s text, b bytea, flag boolean, at timestamptz, plain timestamp, "
        "d date, u uuid, j jsonb)"
    )
    conn.commit()

    at = datetime.datetime(2024, 2, 29, 12, 34, 56, 789000, tzinfo=datetime.timezone.utc)
    plain = datetime.datetime(2023, 12, 31, 23, 59, 59, 500000)
    u = uuid.UUID("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11")
    values = (
        42, 9007199254740993, 2.5, decimal.Decimal("1234.567"), "héllo 'quoted' \\ back",
        b"\x00\x01\xfe\xff", True, at, plain, datetime.date(2024, 1, 31), u, json.dumps({"k": [1, "v"]}),
    )
    cur.execute(
        "INSERT INTO py_types (i, big, f, n, s, b, flag, at, plain, d, u, j) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
        values,
    )
    (row_id,) = cur.fetchone()
    conn.commit()
    check("returning id", row_id, 1)

    cur.execute("SELECT i, big, f, n, s, b, flag, at, plain, d, u, j FROM py_types WHERE id = %s", (row_id,))
    row = cur.fetchone()
    conn.commit()
    check("int", row[0], 42)
    check("bigint", row[1], 9007199254740993)
    check("float", row[2], 2.5)
    check("numeric", row[3], decimal.Decimal("1234.567"))
    check("text", row[4], "héllo 'quoted' \\ back")
    check("bytea", bytes(row[5]), b"\x00\x01\xfe\xff")
    check("bool", row[6], True)
    check("timestamptz", row[7], at)
    check("timestamp", row[8], plain)
    check("date", row[9], datetime.date(2024, 1, 31))
    check("uuid", row[10], u)
    check("jsonb", row[11], {"k": [1, "v"]})
    check("column names", [c.name for c in cur.description], ["i", "big", "f", "n", "s", "b", "flag", "at", "plain", "d", "u", "j"])

    # NULL parameters and a parameter used in an expression.
    cur.execute("SELECT %s::int IS NULL, %s::int * 2, upper(%s)", (None, 21, "abc"))
    check("expressions", cur.fetchone(), (True, 42, "ABC"))
    conn.commit()

    # Rollback discards the transaction's writes; commit keeps them.
    cur.execute("INSERT INTO py_types (i) VALUES (100)")
    cur.execute("SELECT count(*) FROM py_types WHERE i = 100")
    check("own write visible inside the transaction", cur.fetchone()[0], 1)
    conn.rollback()
    cur.execute("SELECT count(*) FROM py_types WHERE i = 100")
    check("rolled back", cur.fetchone()[0], 0)
    cur.execute("INSERT INTO py_types (i) VALUES (200)")
    cur.execute("INSERT INTO py_types (i) VALUES (201)")
    conn.commit()
    cur.execute("SELECT i FROM py_types WHERE i >= 200 ORDER BY i")
    check("committed", cur.fetchall(), [(200,), (201,)])
    conn.commit()

    # executemany: one statement per parameter set, all in one transaction.
    cur.executemany("INSERT INTO py_types (i, s) VALUES (%s, %s)", [(300 + k, f"row {k}") for k in range(5)])
    conn.commit()
    cur.execute("SELECT count(*), min(s), max(s) FROM py_types WHERE i >= 300")
    check("executemany", cur.fetchone(), (5, "row 0", "row 4"))
    conn.commit()

    # Errors carry the SQLSTATE; the failed transaction refuses statements until rollback.
    cur.execute("CREATE TABLE py_unique (k int PRIMARY KEY)")
    conn.commit()
    cur.execute("INSERT INTO py_unique VALUES (1)")
    conn.commit()
    try:
        cur.execute("INSERT INTO py_unique VALUES (1)")
        check("unique violation raised", False, True)
    except psycopg2.errors.UniqueViolation as e:
        check("unique violation pgcode", e.pgcode, "23505")
    try:
        cur.execute("SELECT 1")
        check("aborted transaction raised", False, True)
    except psycopg2.errors.InFailedSqlTransaction as e:
        check("aborted transaction pgcode", e.pgcode, "25P02")
    conn.rollback()
    try:
        cur.execute("SELECT * FROM no_such_table")
        check("undefined table raised", False, True)
    except psycopg2.Error as e:
        check("undefined table pgcode", e.pgcode, "42P01")
    conn.rollback()

    # Autocommit mode: each statement is its own transaction.
    conn.autocommit = True
    cur.execute("INSERT INTO py_unique VALUES (2), (3)")
    check("autocommit rowcount", cur.rowcount, 2)
    cur.execute("SELECT k FROM py_unique ORDER BY k")
    check("autocommit rows", cur.fetchall(), [(1,), (2,), (3,)])

    # A named (server-side) cursor, as Django's QuerySet.iterator() uses:
    # DECLARE … CURSOR, then FETCH FORWARD itersize at a time, then CLOSE.
    conn.autocommit = False
    cur.execute("INSERT INTO py_unique SELECT g FROM generate_series(10, 2509) AS g")
    conn.commit()
    named = conn.cursor(name="py_named")
    named.itersize = 1000
    named.execute("SELECT k FROM py_unique WHERE k >= %s ORDER BY k", (10,))
    keys = [k for (k,) in named]
    check("named cursor rows", (len(keys), keys[0], keys[-1]), (2500, 10, 2509))
    check("named cursor description", [c.name for c in named.description], ["k"])
    named.close()
    conn.commit()
    held = conn.cursor(name="py_held", withhold=True)
    held.execute("SELECT k FROM py_unique ORDER BY k LIMIT 3")
    conn.commit()  # WITH HOLD: the cursor outlives its transaction
    check("held cursor after commit", held.fetchall(), [(1,), (2,), (3,)])
    held.close()
    conn.autocommit = True

    cur.close()
    conn.close()
    print("done", flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
