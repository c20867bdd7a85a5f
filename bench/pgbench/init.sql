-- Tables of every paxosql bench workload, the same as `paxosql bench` creates
-- (src/bench/workloads.ts): run once with psql before the pgbench scripts.
--   psql "$URL" -v ON_ERROR_STOP=1 -f bench/pgbench/init.sql
-- 100,000 accounts = pgbench scale 1 (pass -D scale=1 to the scripts that use it).
DROP TABLE IF EXISTS bench_insert;
CREATE TABLE bench_insert (id BIGINT PRIMARY KEY, client INTEGER NOT NULL, payload TEXT NOT NULL);

DROP TABLE IF EXISTS bench_accounts;
CREATE TABLE bench_accounts (id INTEGER PRIMARY KEY, balance BIGINT NOT NULL DEFAULT 0, updates BIGINT NOT NULL DEFAULT 0);
INSERT INTO bench_accounts (id, balance, updates) SELECT g, 0, 0 FROM generate_series(1, 100000) AS g;

DROP TABLE IF EXISTS pgbench_history;
DROP TABLE IF EXISTS pgbench_tellers;
DROP TABLE IF EXISTS pgbench_accounts;
DROP TABLE IF EXISTS pgbench_branches;
CREATE TABLE pgbench_branches (bid INTEGER PRIMARY KEY, bbalance INTEGER NOT NULL, filler CHAR(88));
CREATE TABLE pgbench_tellers (tid INTEGER PRIMARY KEY, bid INTEGER NOT NULL, tbalance INTEGER NOT NULL, filler CHAR(84));
CREATE TABLE pgbench_accounts (aid INTEGER PRIMARY KEY, bid INTEGER NOT NULL, abalance INTEGER NOT NULL, filler CHAR(84));
CREATE TABLE pgbench_history (tid INTEGER, bid INTEGER, aid INTEGER, delta INTEGER, mtime TIMESTAMP, filler CHAR(22));
INSERT INTO pgbench_branches (bid, bbalance, filler) VALUES (1, 0, '');
INSERT INTO pgbench_tellers (tid, bid, tbalance, filler) SELECT g, 1, 0, '' FROM generate_series(1, 10) AS g;
INSERT INTO pgbench_accounts (aid, bid, abalance, filler) SELECT g, 1, 0, '' FROM generate_series(1, 100000) AS g;
