-- Amplification attacks merged across sensors: every sensor reports its own
-- view of an attack (attack_parts, one per sensor's attack_id); parts for
-- the same victim and protocol that overlap in time are one attack.
CREATE TABLE attack_parts (
	attack_id     text PRIMARY KEY,
	merged_id     text NOT NULL,
	sensor        text COLLATE "C" NOT NULL,
	port          integer NOT NULL,
	start         timestamptz NOT NULL,
	last          timestamptz NOT NULL,
	ended         boolean NOT NULL DEFAULT false,
	packets       bigint NOT NULL DEFAULT 0,
	request_bytes bigint NOT NULL DEFAULT 0,
	reply_bytes   bigint NOT NULL DEFAULT 0,
	peak_pps      double precision NOT NULL DEFAULT 0
);
CREATE INDEX attack_parts_merged ON attack_parts(merged_id);

CREATE TABLE merged_attacks (
	seq           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	id            text NOT NULL UNIQUE,
	victim        inet NOT NULL,
	protocol      text NOT NULL,
	ports         jsonb NOT NULL DEFAULT '[]',
	sensors       jsonb NOT NULL DEFAULT '[]',
	start         timestamptz NOT NULL,
	last          timestamptz NOT NULL,
	ended         boolean NOT NULL DEFAULT false,
	packets       bigint NOT NULL DEFAULT 0,
	request_bytes bigint NOT NULL DEFAULT 0,
	reply_bytes   bigint NOT NULL DEFAULT 0,
	peak_pps      double precision NOT NULL DEFAULT 0,
	request       text NOT NULL DEFAULT '',
	country       text NOT NULL DEFAULT '',
	asn           bigint NOT NULL DEFAULT 0
);
-- btree on inet serves "victim <<= prefix" as a range scan.
CREATE INDEX merged_attacks_victim ON merged_attacks(victim, protocol, last);
CREATE INDEX merged_attacks_start ON merged_attacks(start);
