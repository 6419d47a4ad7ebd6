-- The index the infection check uses to find scanner results about an
-- address (dst_ip is the scanned host).
CREATE INDEX events_scan_dst ON events(dst_ip, time) WHERE honeypot = 'scan';
