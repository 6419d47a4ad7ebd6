-- Portal: dashboard aggregates (maintained at insert by portalDeriver),
-- admin users and sessions, researcher API keys, audit log, alert
-- subscriptions.
CREATE TABLE portal_counts (
	dim text NOT NULL,  -- port, cred, asn, country, attack_proto, attack_country, family, login
	day date NOT NULL,
	key bytea NOT NULL, -- bytes: credentials are attacker bytes, kept exact
	n   bigint NOT NULL,
	PRIMARY KEY (dim, day, key)
);

CREATE TABLE portal_users (
	name     text PRIMARY KEY,
	pw_hash  text NOT NULL,
	created  timestamptz NOT NULL
);

CREATE TABLE portal_sessions (
	token_hash text PRIMARY KEY, -- sha256 of the cookie value
	user_name  text NOT NULL,
	csrf       text NOT NULL,
	expires    timestamptz NOT NULL
);
CREATE INDEX portal_sessions_expires ON portal_sessions(expires);

CREATE TABLE api_keys (
	id        text PRIMARY KEY,
	key_hash  text NOT NULL UNIQUE, -- sha256 of the secret
	name      text NOT NULL,
	scopes    text[] NOT NULL,
	prefixes  cidr[] NOT NULL DEFAULT '{}', -- for check:any
	created   timestamptz NOT NULL,
	revoked   boolean NOT NULL DEFAULT false
);

CREATE TABLE audit_log (
	seq    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	time   timestamptz NOT NULL,
	actor  text NOT NULL,
	action text NOT NULL,
	detail text NOT NULL DEFAULT ''
);

CREATE TABLE subscriptions (
	id   text COLLATE "C" PRIMARY KEY,
	body bytea NOT NULL -- alert.Subscription as JSON, as the portal wrote it
);
