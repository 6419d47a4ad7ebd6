-- Current state of every service the scanner found, from scan.result events.
CREATE TABLE hosts (
	ip          inet NOT NULL,
	port        integer NOT NULL,
	transport   text COLLATE "C" NOT NULL,
	service     text NOT NULL DEFAULT '',
	vendor      text NOT NULL DEFAULT '',
	product     text COLLATE "C" NOT NULL DEFAULT '',
	device_type text NOT NULL DEFAULT '',
	class       text COLLATE "C" NOT NULL DEFAULT '',
	findings    jsonb NOT NULL DEFAULT '[]',
	labels      jsonb NOT NULL DEFAULT '[]',
	template    text COLLATE "C" NOT NULL DEFAULT '',
	first_seen  timestamptz NOT NULL,
	last_seen   timestamptz NOT NULL,
	PRIMARY KEY (ip, port, transport)
);
CREATE INDEX hosts_class ON hosts(class, last_seen DESC, ip DESC, port DESC, transport DESC);
CREATE INDEX hosts_last_seen ON hosts(last_seen);
