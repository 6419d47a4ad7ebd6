package amp

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestOneWayOut enforces the never-amplify design: the only socket writes
// in the sensor are the writer that send receives (writerOf), and the only
// call of that writer is in send.
func TestOneWayOut(t *testing.T) {
	files, _ := filepath.Glob("*.go")
	writes := map[string]bool{"WriteTo": true, "WriteToUDP": true, "WriteToUDPAddrPort": true, "WriteMsgUDP": true,
		"WriteMsgUDPAddrPort": true, "WriteBatch": true, "Write": true}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		f, err := parser.ParseFile(fset, name, src, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Body == nil {
				continue
			}
			ast.Inspect(fn.Body, func(n ast.Node) bool {
				switch x := n.(type) {
				case *ast.SelectorExpr:
					if writes[x.Sel.Name] && fn.Name.Name != "writerOf" {
						t.Errorf("%s: %s calls %s; replies must leave through send", fset.Position(x.Pos()), fn.Name.Name, x.Sel.Name)
					}
				case *ast.CallExpr:
					// A PacketWriter parameter may only be called in send.
					if id, ok := x.Fun.(*ast.Ident); ok && id.Name == "w" && fn.Name.Name != "send" {
						t.Errorf("%s: %s calls the reply writer outside send", fset.Position(x.Pos()), fn.Name.Name)
					}
				}
				return true
			})
		}
	}
}

// TestEmulationsHaveNoSockets: the protocol package only builds bytes.
func TestEmulationsHaveNoSockets(t *testing.T) {
	files, _ := filepath.Glob("proto/*.go")
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			if p := strings.Trim(imp.Path.Value, `"`); p == "net" || p == "net/http" || p == "os" || p == "os/exec" {
				t.Errorf("%s imports %s", name, p)
			}
		}
	}
}
