-- Amplification attacks for the portal's attack pages, from amp.attack.*
-- events (src_ip is the victim), and the index the infection check uses
-- to find scanner results about an address (dst_ip is the scanned host).
CREATE TABLE portal_attacks (
	id        TEXT PRIMARY KEY,
	victim    TEXT NOT NULL,
	protocol  TEXT NOT NULL,
	port      INTEGER NOT NULL,
	start     INTEGER NOT NULL,
	last      INTEGER NOT NULL,
	ended     INTEGER NOT NULL DEFAULT 0,
	packets   INTEGER NOT NULL DEFAULT 0,
	bytes     INTEGER NOT NULL DEFAULT 0,
	peak_pps  REAL NOT NULL DEFAULT 0,
	country   TEXT NOT NULL DEFAULT '',
	sensor    TEXT NOT NULL DEFAULT ''
) WITHOUT ROWID;
CREATE INDEX portal_attacks_victim ON portal_attacks(victim, start);
CREATE INDEX portal_attacks_start ON portal_attacks(start);
CREATE INDEX events_scan_dst ON events(dst_ip, time) WHERE honeypot = 'scan';
