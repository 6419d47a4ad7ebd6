-- Portal: dashboard aggregates (maintained at insert by portalDeriver),
-- admin users and sessions, researcher API keys, audit log, alert
-- subscriptions.
CREATE TABLE portal_counts (
	dim TEXT NOT NULL,  -- port, cred, asn, country, attack_proto, attack_country, family, login
	day TEXT NOT NULL,  -- YYYY-MM-DD, UTC
	key TEXT NOT NULL,
	n   INTEGER NOT NULL,
	PRIMARY KEY (dim, day, key)
) WITHOUT ROWID;

CREATE TABLE portal_users (
	name     TEXT PRIMARY KEY,
	pw_hash  TEXT NOT NULL,
	created  INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE portal_sessions (
	token_hash TEXT PRIMARY KEY, -- sha256 of the cookie value
	user       TEXT NOT NULL,
	csrf       TEXT NOT NULL,
	expires    INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE api_keys (
	id        TEXT PRIMARY KEY,
	key_hash  TEXT NOT NULL UNIQUE, -- sha256 of the secret
	name      TEXT NOT NULL,
	scopes    TEXT NOT NULL, -- space separated
	prefixes  TEXT NOT NULL DEFAULT '', -- space separated, for check:any
	created   INTEGER NOT NULL,
	revoked   INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

CREATE TABLE audit_log (
	seq    INTEGER PRIMARY KEY AUTOINCREMENT,
	time   INTEGER NOT NULL,
	actor  TEXT NOT NULL,
	action TEXT NOT NULL,
	detail TEXT NOT NULL DEFAULT ''
);

CREATE TABLE subscriptions (
	id   TEXT PRIMARY KEY,
	body TEXT NOT NULL -- alert.Subscription as JSON
) WITHOUT ROWID;
