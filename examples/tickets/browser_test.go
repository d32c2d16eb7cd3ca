package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"eddy/examples/tickets/internal/tickets"
)

// browser drives headless Chromium through chromedriver's W3C WebDriver
// protocol (plain HTTP and JSON), enough to use the page as a person does:
// open it, click, type, read.
type browser struct {
	t       *testing.T
	base    string // chromedriver's session URL
	client  *http.Client
	timeout time.Duration
}

// openBrowser starts chromedriver and a headless Chromium session, which
// end with the test. Without Debian's chromium and chromium-driver
// packages the test is skipped, saying so.
func openBrowser(t *testing.T) *browser {
	t.Helper()
	driver, err := exec.LookPath("chromedriver")
	if err != nil {
		missingBrowser(t, "no chromedriver")
	}
	chrome := "/usr/bin/chromium"
	if _, err := os.Stat(chrome); err != nil {
		missingBrowser(t, "no /usr/bin/chromium")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	cmd := exec.Command(driver, fmt.Sprintf("--port=%d", port))
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	b := &browser{t: t, client: &http.Client{Timeout: time.Minute}, timeout: 30 * time.Second}
	root := fmt.Sprintf("http://127.0.0.1:%d", port)
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := b.client.Get(root + "/status")
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("chromedriver did not start: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	caps := map[string]any{"capabilities": map[string]any{"alwaysMatch": map[string]any{
		"browserName": "chrome",
		"goog:chromeOptions": map[string]any{
			"binary": chrome,
			"args":   []string{"--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1200,1000"},
		},
	}}}
	var session struct {
		SessionID string `json:"sessionId"`
	}
	b.base = root
	b.do("POST", "/session", caps, &session)
	b.base = root + "/session/" + session.SessionID
	t.Cleanup(func() { b.do("DELETE", "", nil, nil) })
	return b
}

// do sends one WebDriver command and decodes its value into out.
func (b *browser) do(method, path string, body, out any) {
	b.t.Helper()
	var rd io.Reader
	if body != nil {
		data, _ := json.Marshal(body)
		rd = bytes.NewReader(data)
	}
	req, _ := http.NewRequest(method, b.base+path, rd)
	req.Header.Set("Content-Type", "application/json")
	resp, err := b.client.Do(req)
	if err != nil {
		b.t.Fatalf("webdriver %s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		b.t.Fatalf("webdriver %s %s: %s: %s", method, path, resp.Status, data)
	}
	if out != nil {
		var v struct{ Value json.RawMessage }
		if err := json.Unmarshal(data, &v); err != nil {
			b.t.Fatalf("webdriver %s %s: %v", method, path, err)
		}
		if err := json.Unmarshal(v.Value, out); err != nil {
			b.t.Fatalf("webdriver %s %s: %v in %s", method, path, err, v.Value)
		}
	}
}

func (b *browser) open(url string) {
	b.t.Helper()
	b.do("POST", "/url", map[string]string{"url": url}, nil)
}

func (b *browser) element(css string) string {
	b.t.Helper()
	var el map[string]string
	b.do("POST", "/element", map[string]string{"using": "css selector", "value": css}, &el)
	for _, id := range el {
		return id
	}
	b.t.Fatalf("no element %s", css)
	return ""
}

func (b *browser) click(css string) {
	b.t.Helper()
	b.do("POST", "/element/"+b.element(css)+"/click", map[string]any{}, nil)
}

func (b *browser) fill(css, text string) {
	b.t.Helper()
	id := b.element(css)
	b.do("POST", "/element/"+id+"/clear", map[string]any{}, nil)
	b.do("POST", "/element/"+id+"/value", map[string]string{"text": text}, nil)
}

// eval runs a JavaScript expression in the page and returns its string
// value.
func (b *browser) eval(expr string) string {
	b.t.Helper()
	var s string
	b.do("POST", "/execute/sync", map[string]any{"script": "return String(" + expr + ")", "args": []any{}}, &s)
	return s
}

// reserve opens the page at url and takes it through the queue to a
// reservation of quantity tickets, at the payment step.
func (b *browser) reserve(url, quantity string) {
	b.t.Helper()
	b.open(url)
	b.step("start")
	b.wait("the live WebSocket", "document.getElementById('link').textContent === 'live'")
	b.click("#join")
	b.step("choose")
	b.fill("#quantity", quantity)
	b.click("#reserve-form button[type=submit]")
	b.step("pay")
}

// wait polls a JavaScript condition until it is true.
func (b *browser) wait(what, expr string) {
	b.t.Helper()
	deadline := time.Now().Add(b.timeout)
	for b.eval(expr) != "true" {
		if time.Now().After(deadline) {
			b.screenshot()
			b.t.Fatalf("the page never showed %s; it is at step %q, error %q, events: %s", what,
				b.eval("document.body.dataset.step"), b.eval("document.getElementById('error').textContent"),
				b.eval("Array.from(document.querySelectorAll('#events td:nth-child(2)')).map(td => td.textContent).join(', ')"))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (b *browser) step(step string) {
	b.t.Helper()
	b.wait("step "+step, fmt.Sprintf("document.body.dataset.step === %q", step))
}

// screenshot saves the page to $TICKETS_SCREENSHOTS/<test>.png when that
// directory is set, to look at.
func (b *browser) screenshot() {
	dir := os.Getenv("TICKETS_SCREENSHOTS")
	if dir == "" {
		return
	}
	var png string
	b.do("GET", "/screenshot", nil, &png)
	data, err := base64.StdEncoding.DecodeString(png)
	if err == nil {
		err = os.WriteFile(dir+"/"+strings.ReplaceAll(b.t.Name(), "/", "_")+".png", data, 0o644)
	}
	if err != nil {
		b.t.Log(err)
	}
}

// TestBrowser uses the page in headless Chromium: a purchase under v4, and
// a large one paid by transfer, held as long as the service holds it; a
// page that loses its WebSocket before any event of its session and gets
// what came meanwhile; a purchase taken up again after a reload, and after
// a restart of the example on its data; then,
// under v2 with its timers shortened (reminders every 0.5 s, timeout
// after 3 s instead of 10 s and 2 minutes), a reservation left unpaid,
// whose reminders and timeout reach the page over the WebSocket.
func TestBrowser(t *testing.T) {
	b := openBrowser(t)

	t.Run("purchase", func(t *testing.T) {
		b.t = t
		a := startTest(t, config{Model: "v4", Stock: 30})
		b.reserve(a.URL+"/", "3")
		b.click("#pay")
		b.step("done")
		b.wait("the tickets", "/3 × general — tickets T-\\d+, T-\\d+, T-\\d+/.test(document.getElementById('tickets').textContent)")
		b.wait("the events of the purchase", "['Queue.CustomerJoined','Queue.CustomerExited','Tickets.Reserved','Tickets.PaymentRequested','Payments.Authorized','Tickets.PaymentsAuthorized','Tickets.Emitted']"+
			".every(t => Array.from(document.querySelectorAll('#events td:nth-child(2)')).some(td => td.textContent === t))")
		b.screenshot()
		if s, ok := stockSettles(t, a, func(s tickets.Stock) bool { return s.Sold == 3 }); !ok {
			t.Errorf("stock after the purchase in the browser: %+v", s)
		}
	})

	t.Run("large order", func(t *testing.T) {
		b.t = t
		// Under v4 an order of 10 tickets or more is paid by transfer, a
		// path with no payment timeout: the page says the reservation is
		// held as long as the tickets service holds it, not the 2 minutes
		// the model waits for a card payment.
		a := startTest(t, config{Model: "v4", Stock: 30, Hold: 10 * time.Minute})
		b.reserve(a.URL+"/", "12")
		b.wait("the reservation by transfer", "/12 × general .* pay by bank transfer/.test(document.getElementById('reservation').textContent)")
		if got := b.eval("state.payBy"); got != "0" {
			t.Errorf("the page counts a payment window for a transfer (payBy %s); v4's transfer path has none", got)
		}
		if b.eval("document.getElementById('reservation').textContent.includes('held until ' + new Date(state.reservation.expiresAt).toLocaleTimeString())") != "true" {
			t.Errorf("the page says %q: want it held until the service's hold ends, 10 minutes on", b.eval("document.getElementById('reservation').textContent"))
		}
		b.click("#pay")
		b.step("done")
	})

	t.Run("reconnect", func(t *testing.T) {
		b.t = t
		a := startTest(t, config{Model: "v1", Stock: 30})
		b.open(a.URL + "/")
		b.wait("the live WebSocket", "document.getElementById('link').textContent === 'live'")
		// Before any event of its session the page knows where its stream
		// stands, so what comes while it is offline reaches it after.
		b.wait("the stream's positions", "state.lastEventId !== ''")
		b.eval("(state.ws.close(), true)")
		b.click("#join")
		b.wait("the event sent while the page was offline", "Array.from(document.querySelectorAll('#events td:nth-child(2)')).some(td => td.textContent === 'Queue.CustomerJoined')")
		b.wait("the live WebSocket again", "document.getElementById('link').textContent === 'live'")
	})

	t.Run("reload", func(t *testing.T) {
		b.t = t
		a := startTest(t, config{Model: "v4", Stock: 30})
		b.reserve(a.URL+"/", "2")
		session := b.eval("state.session")
		// A reload takes the purchase up where it was: the same session,
		// the reservation, and the payment goes through.
		b.open(a.URL + "/")
		b.step("pay")
		if got := b.eval("state.session"); got != session {
			t.Fatalf("after the reload the page has session %s, want %s", got, session)
		}
		b.wait("the reservation", "/2 × general/.test(document.getElementById('reservation').textContent)")
		b.click("#pay")
		b.step("done")
		if s, ok := stockSettles(t, a, func(s tickets.Stock) bool { return s.Sold == 2 }); !ok {
			t.Errorf("stock after the purchase across a reload: %+v", s)
		}
		// Reloaded when it is over, the page stays there, whatever order the
		// session's events come back in.
		b.open(a.URL + "/")
		b.wait("the session's events again", "['Tickets.PaymentRequested','Payments.Authorized','Tickets.Emitted']"+
			".every(t => Array.from(document.querySelectorAll('#events td:nth-child(2)')).some(td => td.textContent === t))")
		if step := b.eval("document.body.dataset.step"); step != "done" {
			t.Fatalf("a page reloaded after the purchase is at step %q, want done", step)
		}
		// A session whose stream Eddy cannot resume (its log started
		// afresh) gives way to a new one.
		b.eval("(sessionStorage.setItem('tickets.session', JSON.stringify({session: 's-gone', from: '0-999999999.1-999999999'})), true)")
		b.open(a.URL + "/")
		b.wait("a new session, live", "state.session !== 's-gone' && document.getElementById('link').textContent === 'live'")
		b.step("start")
	})

	t.Run("reload after a restart", func(t *testing.T) {
		b.t = t
		dir := t.TempDir()
		first := startTest(t, config{Model: "v4", Stock: 30, Dir: dir})
		b.reserve(first.URL+"/", "2")
		session := b.eval("state.session")
		first.close()
		// Started again on its data and its address (the tab's storage is
		// the origin's), the example has the reservation back from the
		// log, and the reloaded page takes the purchase up where it was.
		// The restart deploys another model (v1): the purchase goes on
		// under v4, whose payment window the page counts.
		second := startTest(t, config{Model: "v1", Stock: 30, Dir: dir, Addr: strings.TrimPrefix(first.URL, "http://")})
		b.open(second.URL + "/")
		b.step("pay")
		if got := b.eval("state.session"); got != session {
			t.Fatalf("after the restart the page has session %s, want %s", got, session)
		}
		b.wait("the reservation", "/2 × general/.test(document.getElementById('reservation').textContent)")
		b.wait("the purchase's model and its payment window", "document.getElementById('model').textContent === 'v1 (your purchase: v4)' && "+
			"state.payBy > 0 && state.payBy - Date.now() <= 120000")
		b.click("#pay")
		b.step("done")
		// The page hears of the sale from the log, the service counts it
		// once its events are durable: the two come in either order.
		if s, ok := stockSettles(t, second, func(s tickets.Stock) bool { return s.Sold == 2 }); !ok || s.Available != 28 {
			t.Errorf("stock after a purchase across a restart: %+v; want 2 sold, 28 available", s)
		}
	})

	t.Run("reminders and timeout", func(t *testing.T) {
		b.t = t
		// The reservation lasts long enough for a loaded machine to show
		// the payment step before it times out.
		xml := model(t, "v2", "R/PT10S", "R/PT0.5S", "PT2M", "PT8S")
		a := startTest(t, config{Model: "v2", ModelXML: xml, Stock: 30})
		b.open(a.URL + "/")
		b.wait("the live WebSocket", "document.getElementById('link').textContent === 'live'")
		b.click("#join")
		b.step("choose")
		b.click("#reserve-form button[type=submit]")
		b.step("pay")
		// The page says the reservation is held as long as the model
		// waits for the payment (8 s here), not the service's 3 minutes.
		b.wait("the model's payment deadline", "state.payBy > 0 && state.payBy - Date.now() <= 8000 && "+
			"document.getElementById('reservation').textContent.includes('held until ' + new Date(state.payBy).toLocaleTimeString())")
		b.wait("a payment reminder", "document.getElementById('notifications').textContent.includes('please complete the payment')")
		b.step("over")
		b.wait("the timeout", "document.getElementById('over-text').textContent.includes('timed out')")
		b.screenshot()
		s := a.tickets.Stock()
		l := newLedger()
		if !l.settle(t, a, func() bool { s = a.tickets.Stock(); return s.Available == 30 }) {
			t.Errorf("stock after the timeout in the browser: %+v", s)
		}
	})
}

// missingBrowser skips the browser test outside CI and fails it under
// CI=true, where scripts/test installs Debian's chromium and
// chromium-driver first.
func missingBrowser(t *testing.T, what string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s: under CI=true the browser test must run (scripts/test installs chromium and chromium-driver)", what)
	}
	t.Skipf("%s: apt-get install chromium chromium-driver to run the browser test", what)
}
