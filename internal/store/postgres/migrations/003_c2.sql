-- Command-and-control servers named by analysed samples (sandbox C2
-- candidates and addresses embedded in the binaries).
CREATE TABLE c2s (
	seq        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	host       text NOT NULL, -- IP address or domain name
	port       integer NOT NULL,
	first_seen timestamptz NOT NULL,
	last_seen  timestamptz NOT NULL,
	family     text NOT NULL DEFAULT '',
	sha256     text NOT NULL DEFAULT '', -- the newest sample naming it
	source     text NOT NULL DEFAULT '', -- sandbox, static
	count      bigint NOT NULL DEFAULT 0,
	UNIQUE (host, port)
);
CREATE INDEX c2s_first_seen ON c2s(first_seen);
