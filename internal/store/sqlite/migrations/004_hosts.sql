-- Current state of every service the scanner found, from scan.result events.
CREATE TABLE hosts (
	ip          TEXT NOT NULL,
	port        INTEGER NOT NULL,
	transport   TEXT NOT NULL,
	service     TEXT NOT NULL DEFAULT '',
	vendor      TEXT NOT NULL DEFAULT '',
	product     TEXT NOT NULL DEFAULT '',
	device_type TEXT NOT NULL DEFAULT '',
	class       TEXT NOT NULL DEFAULT '',
	findings    TEXT NOT NULL DEFAULT '[]',
	labels      TEXT NOT NULL DEFAULT '[]',
	template    TEXT NOT NULL DEFAULT '',
	first_seen  INTEGER NOT NULL,
	last_seen   INTEGER NOT NULL,
	PRIMARY KEY (ip, port, transport)
) WITHOUT ROWID;
CREATE INDEX hosts_class ON hosts(class, last_seen);
CREATE INDEX hosts_last_seen ON hosts(last_seen);
