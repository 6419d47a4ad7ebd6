-- How each URL and C2 was observed, with what confidence, and whether it
-- is published (public API and feeds), pending an admin's review (or more
-- independent samples), or rejected. samples counts the distinct samples
-- naming it (indicator_samples). Download URLs bots fetched in sessions
-- (count > 0) were observed; those only a report named are kept for review.
ALTER TABLE urls ADD COLUMN observed text NOT NULL DEFAULT '';
ALTER TABLE urls ADD COLUMN confidence integer NOT NULL DEFAULT 0;
ALTER TABLE urls ADD COLUMN review text NOT NULL DEFAULT 'published';
ALTER TABLE urls ADD COLUMN samples integer NOT NULL DEFAULT 0;
UPDATE urls SET observed = 'session-fetch', confidence = 90 WHERE count > 0;
UPDATE urls SET observed = 'legacy-report', review = 'pending' WHERE count = 0;
ALTER TABLE c2s ADD COLUMN observed text NOT NULL DEFAULT '';
ALTER TABLE c2s ADD COLUMN confidence integer NOT NULL DEFAULT 0;
ALTER TABLE c2s ADD COLUMN review text NOT NULL DEFAULT 'pending';
ALTER TABLE c2s ADD COLUMN samples integer NOT NULL DEFAULT 0;
UPDATE c2s SET observed = 'legacy-report';
CREATE INDEX urls_review ON urls(review, seq);
CREATE INDEX c2s_review ON c2s(review, seq);
CREATE TABLE indicator_samples (
	kind   text NOT NULL, -- c2 (value host:port), url
	value  text NOT NULL,
	sha256 text NOT NULL,
	PRIMARY KEY (kind, value, sha256)
);
