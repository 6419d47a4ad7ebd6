-- One finding in one prefix: the index also carries the listing's rank and
-- the rest of the key, so a page is chosen from the index (hostsSQL joins
-- the host rows of that page only) rather than from every match's row.
DROP INDEX host_findings_prefix;
CREATE INDEX host_findings_prefix ON host_findings(finding, ip) INCLUDE (crit, last_seen, port, transport);
