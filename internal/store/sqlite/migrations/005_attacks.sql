-- Amplification attacks merged across sensors: every sensor reports its own
-- view of an attack (attack_parts, one per sensor's attack_id); parts for
-- the same victim and protocol that overlap in time are one attack.
CREATE TABLE attack_parts (
	attack_id     TEXT PRIMARY KEY,
	merged_id     TEXT NOT NULL,
	sensor        TEXT NOT NULL,
	port          INTEGER NOT NULL,
	start         INTEGER NOT NULL,
	last          INTEGER NOT NULL,
	ended         INTEGER NOT NULL DEFAULT 0,
	packets       INTEGER NOT NULL DEFAULT 0,
	request_bytes INTEGER NOT NULL DEFAULT 0,
	reply_bytes   INTEGER NOT NULL DEFAULT 0,
	peak_pps      REAL NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE INDEX attack_parts_merged ON attack_parts(merged_id);

CREATE TABLE merged_attacks (
	seq           INTEGER PRIMARY KEY AUTOINCREMENT,
	id            TEXT NOT NULL UNIQUE,
	victim        TEXT NOT NULL,
	protocol      TEXT NOT NULL,
	ports         TEXT NOT NULL DEFAULT '[]',
	sensors       TEXT NOT NULL DEFAULT '[]',
	start         INTEGER NOT NULL,
	last          INTEGER NOT NULL,
	ended         INTEGER NOT NULL DEFAULT 0,
	packets       INTEGER NOT NULL DEFAULT 0,
	request_bytes INTEGER NOT NULL DEFAULT 0,
	reply_bytes   INTEGER NOT NULL DEFAULT 0,
	peak_pps      REAL NOT NULL DEFAULT 0,
	request       TEXT NOT NULL DEFAULT '',
	country       TEXT NOT NULL DEFAULT '',
	asn           INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX merged_attacks_victim ON merged_attacks(victim, protocol, last);
CREATE INDEX merged_attacks_start ON merged_attacks(start);
