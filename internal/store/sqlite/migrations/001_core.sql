CREATE TABLE events (
	seq       INTEGER PRIMARY KEY AUTOINCREMENT,
	id        TEXT NOT NULL UNIQUE,
	time      INTEGER NOT NULL, -- unix nanoseconds, UTC
	sensor    TEXT NOT NULL,
	honeypot  TEXT NOT NULL,
	kind      TEXT NOT NULL,
	session   TEXT NOT NULL DEFAULT '',
	src_ip    TEXT NOT NULL DEFAULT '',
	src_port  INTEGER NOT NULL DEFAULT 0,
	dst_ip    TEXT NOT NULL DEFAULT '',
	dst_port  INTEGER NOT NULL DEFAULT 0,
	transport TEXT NOT NULL DEFAULT '',
	country   TEXT NOT NULL DEFAULT '',
	asn       INTEGER NOT NULL DEFAULT 0,
	data      TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX events_time ON events(time);
CREATE INDEX events_src_ip ON events(src_ip, time);
CREATE INDEX events_honeypot ON events(honeypot, time);
CREATE INDEX events_kind ON events(kind, time);
CREATE INDEX events_sensor ON events(sensor, time);
CREATE INDEX events_session ON events(session) WHERE session != '';

CREATE TABLE sessions (
	id        TEXT PRIMARY KEY,
	sensor    TEXT NOT NULL,
	honeypot  TEXT NOT NULL,
	src_ip    TEXT NOT NULL,
	src_port  INTEGER NOT NULL,
	dst_port  INTEGER NOT NULL,
	start     INTEGER NOT NULL,
	end       INTEGER,
	duration  REAL NOT NULL DEFAULT 0,
	bytes_in  INTEGER NOT NULL DEFAULT 0,
	bytes_out INTEGER NOT NULL DEFAULT 0,
	reason    TEXT NOT NULL DEFAULT '',
	username  TEXT NOT NULL DEFAULT '',
	password  TEXT NOT NULL DEFAULT '',
	logged_in INTEGER NOT NULL DEFAULT 0,
	commands  INTEGER NOT NULL DEFAULT 0,
	country   TEXT NOT NULL DEFAULT '',
	asn       INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX sessions_src_ip ON sessions(src_ip, start);
CREATE INDEX sessions_start ON sessions(start);

CREATE TABLE samples (
	seq          INTEGER PRIMARY KEY AUTOINCREMENT,
	sha256       TEXT NOT NULL UNIQUE,
	sha1         TEXT NOT NULL,
	md5          TEXT NOT NULL,
	size         INTEGER NOT NULL,
	first_seen   INTEGER NOT NULL,
	last_seen    INTEGER NOT NULL,
	source_count INTEGER NOT NULL DEFAULT 0,
	file_type    TEXT NOT NULL DEFAULT '',
	family       TEXT NOT NULL DEFAULT '',
	arch         TEXT NOT NULL DEFAULT '',
	url          TEXT NOT NULL DEFAULT ''
);
CREATE INDEX samples_first_seen ON samples(first_seen);

-- Which sources delivered a sample, so source_count counts distinct ones.
CREATE TABLE sample_sources (
	sha256 TEXT NOT NULL,
	src_ip TEXT NOT NULL,
	PRIMARY KEY (sha256, src_ip)
) WITHOUT ROWID;

CREATE TABLE urls (
	seq        INTEGER PRIMARY KEY AUTOINCREMENT,
	url        TEXT NOT NULL UNIQUE,
	host       TEXT NOT NULL,
	first_seen INTEGER NOT NULL,
	last_seen  INTEGER NOT NULL,
	status     TEXT NOT NULL DEFAULT 'unknown',
	sha256     TEXT NOT NULL DEFAULT '',
	count      INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX urls_first_seen ON urls(first_seen);
CREATE INDEX urls_host ON urls(host);

-- Maintained on insert so dashboards never scan events.
CREATE TABLE daily_counts (
	day      TEXT NOT NULL,
	honeypot TEXT NOT NULL,
	kind     TEXT NOT NULL,
	country  TEXT NOT NULL,
	n        INTEGER NOT NULL,
	PRIMARY KEY (day, honeypot, kind, country)
) WITHOUT ROWID;
