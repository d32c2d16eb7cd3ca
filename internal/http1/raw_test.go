package http1

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
)

// rawEcho answers from the parsed request, or declines requests whose
// path ends in /decline, which then reach echo through ServeHTTP.
type rawEcho struct{}

func (rawEcho) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Served", "ServeHTTP")
	echo.ServeHTTP(w, r)
}

func (rawEcho) ServeRaw(w http.ResponseWriter, r *RawRequest) bool {
	if strings.HasSuffix(r.Path, "/decline") {
		return false
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s\n", r.Method, r.Path)
	for i := range r.NumFields() {
		name, value := r.Field(i)
		fmt.Fprintf(&b, "%s=%q\n", name, value)
	}
	fmt.Fprintf(&b, "body=%q", r.Body)
	w.Header().Set("X-Served", "ServeRaw")
	w.WriteHeader(http.StatusAccepted)
	w.Write([]byte(b.String()))
	return true
}

func TestRawHandler(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &Server{Fallback: &http.Server{}, Route: func(string, string) http.Handler { return rawEcho{} }}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	defer func() {
		srv.Close()
		if err := <-done; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("Serve: %v", err)
		}
	}()
	raw := "POST /events HTTP/1.1\r\nHost: h\r\nCE-Id: 1\r\nContent-Length: 3\r\nce-id: 2\r\n\r\nabc" +
		"POST /events/decline HTTP/1.1\r\nHost: h\r\nCe-Id: 3\r\nContent-Length: 2\r\n\r\nde" +
		"POST /again HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n"
	got := exchange(t, ln.Addr().String(), raw, 3)
	want := []struct {
		status       int
		served, body string
	}{
		{202, "ServeRaw", "POST /events\nCE-Id=\"1\"\nContent-Length=\"3\"\nce-id=\"2\"\nbody=\"abc\""},
		{200, "ServeHTTP", "Ce-Id=[\"3\"]"},
		{202, "ServeRaw", "POST /again\nContent-Length=\"0\"\nbody=\"\""},
	}
	for i, w := range want {
		r := got[i]
		if r.StatusCode != w.status || r.Header.Get("X-Served") != w.served || !strings.Contains(r.Header.Get("X-Body"), w.body) {
			t.Errorf("answer %d: %d %s %q, want %d %s containing %q", i, r.StatusCode, r.Header.Get("X-Served"), r.Header.Get("X-Body"), w.status, w.served, w.body)
		}
	}
}
