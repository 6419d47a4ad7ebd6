-- The listing's rank as a stored column: SQLite does not seek on an
-- expression index with a row-value cursor, so with (class = 'critical')
-- as the first key every next page walked the index from the start of its
-- range. The host deriver writes crit with class; rows stored before this
-- migration get it here. The primary key columns are named so that the
-- cursor (crit, last_seen, ip, port, transport) is one index range.
ALTER TABLE hosts ADD COLUMN crit INTEGER NOT NULL DEFAULT 0;
UPDATE hosts SET crit = (class = 'critical');
DROP INDEX hosts_rank;
CREATE INDEX hosts_rank ON hosts(crit, last_seen, ip, port, transport);
DROP INDEX hosts_template_rank;
CREATE INDEX hosts_template_rank ON hosts(template, crit, last_seen, ip, port, transport) WHERE template != '';
