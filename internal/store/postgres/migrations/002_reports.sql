-- One analysis report per sample, written from analysis.report events.
CREATE TABLE reports (
	sha256    text PRIMARY KEY,
	status    text NOT NULL, -- queued, done, failed
	updated   timestamptz NOT NULL,
	family    text NOT NULL DEFAULT '',
	arch      text NOT NULL DEFAULT '',
	file_type text NOT NULL DEFAULT '',
	error     text NOT NULL DEFAULT '',
	report    json NOT NULL DEFAULT '{}' -- json: strings from binaries may hold \u0000
);
