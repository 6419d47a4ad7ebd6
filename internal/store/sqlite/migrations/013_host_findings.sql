-- Hosts by finding ("every host with finding X in my prefix") without
-- reading every host's JSON list: one row per finding of a service,
-- replaced with the host row it is derived from (hostFindingsSQL in
-- hosts.go does both here and in the deriver). crit and last_seen are
-- copies of the host row's, so the listing order is the index's order.
CREATE TABLE host_findings (
	ip        TEXT NOT NULL,
	port      INTEGER NOT NULL,
	transport TEXT NOT NULL,
	finding   TEXT NOT NULL,
	crit      INTEGER NOT NULL,
	last_seen INTEGER NOT NULL,
	ip_key    BLOB NOT NULL,
	PRIMARY KEY (ip, port, transport, finding)
) WITHOUT ROWID;
-- Critical first, then newest: the listing order, paged with a cursor.
CREATE INDEX host_findings_rank ON host_findings(finding, crit, last_seen, ip, port, transport);
-- One finding in one prefix: a range of keys.
CREATE INDEX host_findings_prefix ON host_findings(finding, ip_key);
INSERT OR IGNORE INTO host_findings (ip, port, transport, finding, crit, last_seen, ip_key)
	SELECT hosts.ip, hosts.port, hosts.transport, j.value, hosts.class = 'critical', hosts.last_seen, hosts.ip_key
	FROM hosts, json_each(hosts.findings) j WHERE j.type = 'text';
-- The members of one web-UI template cluster, in the listing order.
DROP INDEX hosts_template;
CREATE INDEX hosts_template_rank ON hosts(template, (class = 'critical'), last_seen) WHERE template != '';
