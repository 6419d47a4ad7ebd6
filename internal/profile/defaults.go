package profile

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"sync"
)

//go:embed all:data
var defaultFS embed.FS

var defaults = sync.OnceValues(func() ([]*Profile, error) {
	ents, err := fs.ReadDir(defaultFS, "data")
	if err != nil {
		return nil, err
	}
	var out []*Profile
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		sub, err := fs.Sub(defaultFS, path.Join("data", e.Name()))
		if err != nil {
			return nil, err
		}
		p, err := loadFS(sub, "embedded:"+e.Name())
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, checkUnique(out)
})

// Defaults returns the profiles shipped with kansoku. They are shared:
// callers must not modify them.
func Defaults() []*Profile {
	ps, err := defaults()
	if err != nil {
		// The embedded data is checked by the package tests; reaching this
		// is a build defect, not a runtime condition.
		panic(fmt.Sprintf("profile: embedded defaults: %v", err))
	}
	return ps
}
