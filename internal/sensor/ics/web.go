package ics

import (
	"embed"
	"io/fs"

	"github.com/kansoku/kansoku/internal/webprofile"
)

// The data loggers' web UIs are profiles of the HTTP honeypot
// (internal/webprofile), one per site: run them as http instances with
// profile logger-<site>. Their facility and location are the site's (a
// test keeps the two in step); login attempts, path scans and exploit
// requests are the http sensor's events, matched to CVEs by the shared
// signature set.
//
//go:embed web
var webFS embed.FS

func init() {
	sub, err := fs.Sub(webFS, "web")
	if err != nil {
		panic(err) // the embedded directory exists
	}
	webprofile.Register(sub)
}
