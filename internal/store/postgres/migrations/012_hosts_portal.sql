-- The portal's hosts pages. Prefix searches are "ip <<= cidr", which the
-- primary key (a btree led by the inet) answers as a range scan; sqlite
-- needs an extra key column for that.
-- Critical first, then newest: the order the portal lists hosts in and
-- pages through with a cursor.
CREATE INDEX hosts_rank ON hosts((class = 'critical') DESC, last_seen DESC, ip DESC, port DESC, transport DESC);
CREATE INDEX hosts_product ON hosts(product, last_seen);
CREATE INDEX hosts_template ON hosts(template) WHERE template <> '';
CREATE INDEX hosts_findings ON hosts USING gin (findings jsonb_path_ops);
