-- The portal's hosts pages. Prefix searches need the address as a sortable
-- key (a family byte, then 4 or 16 address bytes): the deriver fills it,
-- and Open fills it for rows stored before this migration.
ALTER TABLE hosts ADD COLUMN ip_key BLOB NOT NULL DEFAULT x'';
CREATE INDEX hosts_ip_key ON hosts(ip_key);
-- Critical first, then newest: the order the portal lists hosts in and
-- pages through with a cursor (the primary key follows in every index).
CREATE INDEX hosts_rank ON hosts((class = 'critical'), last_seen);
CREATE INDEX hosts_product ON hosts(product, last_seen);
CREATE INDEX hosts_template ON hosts(template) WHERE template != '';
