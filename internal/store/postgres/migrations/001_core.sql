-- The PostgreSQL schema mirrors the sqlite one (same migration names) with
-- PostgreSQL types: timestamptz (microseconds), inet for addresses (NULL
-- for none), bytea for attacker strings kept byte-exact. Text columns that
-- results are sorted by use the "C" collation, so ties break the same way
-- as in SQLite whatever the database's locale.
CREATE TABLE events (
	seq       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	id        text NOT NULL UNIQUE,
	time      timestamptz NOT NULL,
	sensor    text NOT NULL,
	honeypot  text NOT NULL,
	kind      text NOT NULL,
	session   text NOT NULL DEFAULT '',
	src_ip    inet,
	src_port  integer NOT NULL DEFAULT 0,
	dst_ip    inet,
	dst_port  integer NOT NULL DEFAULT 0,
	transport text NOT NULL DEFAULT '',
	country   text NOT NULL DEFAULT '',
	asn       bigint NOT NULL DEFAULT 0,
	-- json, not jsonb: jsonb cannot hold \u0000, which attackers send, and
	-- the event must come back as it was stored.
	data      json NOT NULL DEFAULT '{}'
);
CREATE INDEX events_time ON events(time);
CREATE INDEX events_src_ip ON events(src_ip, time);
CREATE INDEX events_honeypot ON events(honeypot, time);
CREATE INDEX events_kind ON events(kind, time);
CREATE INDEX events_sensor ON events(sensor, time);
CREATE INDEX events_session ON events(session) WHERE session <> '';

CREATE TABLE sessions (
	id        text PRIMARY KEY,
	sensor    text NOT NULL,
	honeypot  text NOT NULL,
	src_ip    inet,
	src_port  integer NOT NULL,
	dst_port  integer NOT NULL,
	start     timestamptz NOT NULL,
	end_at    timestamptz,
	duration  double precision NOT NULL DEFAULT 0,
	bytes_in  bigint NOT NULL DEFAULT 0,
	bytes_out bigint NOT NULL DEFAULT 0,
	reason    text NOT NULL DEFAULT '',
	username  bytea NOT NULL DEFAULT '',
	password  bytea NOT NULL DEFAULT '',
	logged_in boolean NOT NULL DEFAULT false,
	commands  bigint NOT NULL DEFAULT 0,
	country   text NOT NULL DEFAULT '',
	asn       bigint NOT NULL DEFAULT 0
);
CREATE INDEX sessions_src_ip ON sessions(src_ip, start);
CREATE INDEX sessions_start ON sessions(start);

CREATE TABLE samples (
	seq          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	sha256       text NOT NULL UNIQUE,
	sha1         text NOT NULL,
	md5          text NOT NULL,
	size         bigint NOT NULL,
	first_seen   timestamptz NOT NULL,
	last_seen    timestamptz NOT NULL,
	source_count bigint NOT NULL DEFAULT 0,
	file_type    text NOT NULL DEFAULT '',
	family       text NOT NULL DEFAULT '',
	arch         text NOT NULL DEFAULT '',
	url          text NOT NULL DEFAULT ''
);
CREATE INDEX samples_first_seen ON samples(first_seen);
CREATE INDEX samples_sha1 ON samples(sha1);
CREATE INDEX samples_md5 ON samples(md5);

-- Which sources delivered a sample, so source_count counts distinct ones.
CREATE TABLE sample_sources (
	sha256 text NOT NULL,
	src_ip inet NOT NULL,
	PRIMARY KEY (sha256, src_ip)
);

CREATE TABLE urls (
	seq        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	url        text NOT NULL UNIQUE,
	host       text NOT NULL,
	first_seen timestamptz NOT NULL,
	last_seen  timestamptz NOT NULL,
	status     text NOT NULL DEFAULT 'unknown',
	sha256     text NOT NULL DEFAULT '',
	count      bigint NOT NULL DEFAULT 0
);
CREATE INDEX urls_first_seen ON urls(first_seen);
CREATE INDEX urls_host ON urls(host);

-- Maintained on insert so dashboards never scan events.
CREATE TABLE daily_counts (
	day      date NOT NULL,
	honeypot text COLLATE "C" NOT NULL,
	kind     text COLLATE "C" NOT NULL,
	country  text COLLATE "C" NOT NULL,
	n        bigint NOT NULL,
	PRIMARY KEY (day, honeypot, kind, country)
);
