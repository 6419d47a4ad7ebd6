-- Hosts by finding ("every host with finding X in my prefix") as an index
-- walk in the listing order: one row per finding of a service, replaced
-- with the host row it is derived from (hostFindingsSQL in hosts.go does
-- both here and in the deriver). crit and last_seen are copies of the host
-- row's, so the listing order is the index's order.
CREATE TABLE host_findings (
	ip        inet NOT NULL,
	port      integer NOT NULL,
	transport text COLLATE "C" NOT NULL,
	finding   text COLLATE "C" NOT NULL,
	crit      boolean NOT NULL,
	last_seen timestamptz NOT NULL,
	PRIMARY KEY (ip, port, transport, finding)
);
-- Critical first, then newest: the listing order, paged with a cursor.
CREATE INDEX host_findings_rank ON host_findings(finding, crit DESC, last_seen DESC, ip DESC, port DESC, transport DESC);
-- One finding in one prefix: "ip <<= cidr" is a range of this index.
CREATE INDEX host_findings_prefix ON host_findings(finding, ip);
INSERT INTO host_findings (ip, port, transport, finding, crit, last_seen)
	SELECT hosts.ip, hosts.port, hosts.transport, f #>> '{}', hosts.class = 'critical', hosts.last_seen
	FROM hosts, jsonb_array_elements(hosts.findings) f WHERE jsonb_typeof(f) = 'string'
	ON CONFLICT DO NOTHING;
-- host_findings answers finding queries now.
DROP INDEX hosts_findings;
-- The members of one web-UI template cluster, in the listing order.
DROP INDEX hosts_template;
CREATE INDEX hosts_template_rank ON hosts(template, (class = 'critical') DESC, last_seen DESC, ip DESC, port DESC, transport DESC) WHERE template <> '';
