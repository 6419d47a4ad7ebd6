package scan_test

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"testing"

	"github.com/kansoku/kansoku/internal/scan"
	mhttp "github.com/kansoku/kansoku/internal/scan/modules/http"
)

// TestRedirectsStayOnTarget: a same-address redirect is followed, one to
// another host is recorded and never dialled, even by the HTTP client.
func TestRedirectsStayOnTarget(t *testing.T) {
	other, err := net.Listen("tcp", "127.27.0.2:0")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	l, err := net.Listen("tcp", "127.27.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := netip.MustParseAddrPort(l.Addr().String()).Port()
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/":
			http.Redirect(w, r, "/home", http.StatusFound)
		case "/home":
			http.Redirect(w, r, "http://"+other.Addr().String()+"/login", http.StatusFound)
		default:
			http.NotFound(w, r)
		}
	})}
	go srv.Serve(l)
	defer srv.Close()

	rec := &recordingDialer{}
	sink := &memSink{}
	cfg := scan.Config{Targets: []string{"127.27.0.1"}, Ports: []string{strconv.Itoa(int(port))}, Modules: []string{"http:" + strconv.Itoa(int(port))}, Dialer: rec, Seed: 1}
	st, err := scan.Run(context.Background(), cfg, sink, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(sink.results) != 1 {
		t.Fatalf("%d results", len(sink.results))
	}
	r := sink.results[0].Data["http"].Result.(*mhttp.Result)
	if r.StatusCode != 302 || r.Redirect != "http://"+other.Addr().String()+"/login" || r.URL != "http://"+l.Addr().String()+"/home" {
		t.Errorf("result %+v", r)
	}
	for a := range rec.addrs {
		if a != l.Addr().String() {
			t.Errorf("dialled %s", a)
		}
	}
	if st.Refused != 0 {
		t.Errorf("guard refused %d dials: the module tried to leave the target", st.Refused)
	}
}
