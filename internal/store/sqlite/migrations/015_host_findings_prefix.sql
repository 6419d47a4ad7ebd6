-- One finding in one prefix: the index also carries the listing's rank, so
-- a page is picked from the index alone (hostsSQL joins the host rows of
-- that page only) rather than reading every match's row to sort them.
DROP INDEX host_findings_prefix;
CREATE INDEX host_findings_prefix ON host_findings(finding, ip_key, crit, last_seen);
