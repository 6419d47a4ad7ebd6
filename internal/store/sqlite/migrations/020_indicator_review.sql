-- How each URL and C2 was observed, with what confidence, and whether it
-- is published (public API and feeds), pending an admin's review (or more
-- independent samples), or rejected. samples counts the distinct samples
-- naming it (indicator_samples). Download URLs bots fetched in sessions
-- (count > 0) were observed; those only a report named are kept for review.
ALTER TABLE urls ADD COLUMN observed TEXT NOT NULL DEFAULT '';
ALTER TABLE urls ADD COLUMN confidence INTEGER NOT NULL DEFAULT 0;
ALTER TABLE urls ADD COLUMN review TEXT NOT NULL DEFAULT 'published';
ALTER TABLE urls ADD COLUMN samples INTEGER NOT NULL DEFAULT 0;
UPDATE urls SET observed = 'session-fetch', confidence = 90 WHERE count > 0;
UPDATE urls SET observed = 'legacy-report', review = 'pending' WHERE count = 0;
ALTER TABLE c2s ADD COLUMN observed TEXT NOT NULL DEFAULT '';
ALTER TABLE c2s ADD COLUMN confidence INTEGER NOT NULL DEFAULT 0;
ALTER TABLE c2s ADD COLUMN review TEXT NOT NULL DEFAULT 'pending';
ALTER TABLE c2s ADD COLUMN samples INTEGER NOT NULL DEFAULT 0;
UPDATE c2s SET observed = 'legacy-report';
CREATE INDEX urls_review ON urls(review, seq);
CREATE INDEX c2s_review ON c2s(review, seq);
CREATE TABLE indicator_samples (
	kind   TEXT NOT NULL, -- c2 (value host:port), url
	value  TEXT NOT NULL,
	sha256 TEXT NOT NULL,
	PRIMARY KEY (kind, value, sha256)
) WITHOUT ROWID;
