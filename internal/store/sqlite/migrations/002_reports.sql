-- One analysis report per sample, written from analysis.report events.
CREATE TABLE reports (
	sha256    TEXT PRIMARY KEY,
	status    TEXT NOT NULL, -- queued, done, failed
	updated   INTEGER NOT NULL,
	family    TEXT NOT NULL DEFAULT '',
	arch      TEXT NOT NULL DEFAULT '',
	file_type TEXT NOT NULL DEFAULT '',
	error     TEXT NOT NULL DEFAULT '',
	report    TEXT NOT NULL DEFAULT '{}'
) WITHOUT ROWID;
