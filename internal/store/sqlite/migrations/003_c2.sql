-- Command-and-control servers named by analysed samples (sandbox C2
-- candidates and addresses embedded in the binaries).
CREATE TABLE c2s (
	seq        INTEGER PRIMARY KEY AUTOINCREMENT,
	host       TEXT NOT NULL, -- IP address or domain name
	port       INTEGER NOT NULL,
	first_seen INTEGER NOT NULL,
	last_seen  INTEGER NOT NULL,
	family     TEXT NOT NULL DEFAULT '',
	sha256     TEXT NOT NULL DEFAULT '', -- the newest sample naming it
	source     TEXT NOT NULL DEFAULT '', -- sandbox, static
	count      INTEGER NOT NULL DEFAULT 0,
	UNIQUE (host, port)
);
CREATE INDEX c2s_first_seen ON c2s(first_seen);
