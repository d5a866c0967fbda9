package api_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/breachnotice/breachnotice/internal/api"
)

// TestProgress_AStalledUploadIsCutOffAndReleasesTheCampaign: an upload that stops sending
// keeps neither its connection nor the campaign's lock — the next import of the same campaign
// goes through.
func TestProgress_AStalledUploadIsCutOffAndReleasesTheCampaign(t *testing.T) {
	c := newServer(t)
	id := c.createCampaign()
	// Announce 10 MB, send two rows, then nothing.
	conn := c.rawUpload(id, "customer_id,email\nS1,s1@example.com\nS2,s2@example.com\n")
	start := time.Now()
	conn.SetReadDeadline(time.Now().Add(testBodyIdle + 10*time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	switch {
	case err == nil:
		resp.Body.Close()
		if resp.StatusCode < 400 {
			t.Errorf("a stalled upload answered %d", resp.StatusCode)
		}
	case strings.Contains(err.Error(), "i/o timeout"):
		t.Fatalf("the server kept a stalled upload's connection for %s", time.Since(start))
	}
	if waited := time.Since(start); waited < testBodyIdle-200*time.Millisecond || waited > testBodyIdle+8*time.Second {
		t.Errorf("the stalled upload was cut after %s, want about %s", waited, testBodyIdle)
	}
	// The campaign is free: another import goes through at once.
	done := make(chan int, 1)
	go func() {
		resp, _ := c.do("POST", "/api/v1/campaigns/"+id+"/imports?filename=next.csv", "text/csv",
			strings.NewReader("customer_id,email\nN1,n1@example.com\n"), c.token)
		done <- resp.StatusCode
	}()
	select {
	case status := <-done:
		if status != http.StatusCreated {
			t.Errorf("the next import: %d, want 201", status)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("the next import waited: the stalled one still holds the campaign")
	}
}

// TestProgress_ATrickledUploadIsCutOff: an upload that sends a little every half second never
// stalls for testBodyIdle, yet averages far under testMinRate: it is cut off soon after its
// grace, and the campaign is free for the next import.
func TestProgress_ATrickledUploadIsCutOff(t *testing.T) {
	c := newServer(t)
	id := c.createCampaign()
	conn := c.rawUpload(id, "customer_id,email\n")
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(testBodyIdle / 4):
			}
			if _, err := fmt.Fprintf(conn, "T%d,t%d@example.com\n", i, i); err != nil {
				return
			}
		}
	}()
	start := time.Now()
	conn.SetReadDeadline(time.Now().Add(6 * testBodyIdle))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("the trickled upload got no answer after %s: %v", time.Since(start), err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode < 400 || !strings.Contains(string(body), "KiB/s") {
		t.Errorf("the trickled upload: %d %s; want it refused for its rate", resp.StatusCode, body)
	}
	if waited := time.Since(start); waited > 3*testBodyIdle {
		t.Errorf("the trickled upload was cut after %s; its grace is %s", waited, testBodyIdle)
	}
	resp2, body2 := c.do("POST", "/api/v1/campaigns/"+id+"/imports?filename=next.csv", "text/csv",
		strings.NewReader("customer_id,email\nN1,n1@example.com\n"), c.token)
	if resp2.StatusCode != http.StatusCreated {
		t.Errorf("the next import: %d %s, want 201", resp2.StatusCode, body2)
	}
}

// TestProgress_ASlowButSteadyUploadGoesThrough: an upload above the least rate, though slower
// than its grace and with pauses of half the idle limit, is imported whole.
func TestProgress_ASlowButSteadyUploadGoesThrough(t *testing.T) {
	c := newServer(t)
	id := c.createCampaign()
	pr, pw := io.Pipe()
	go func() {
		fmt.Fprint(pw, "customer_id,email\n")
		const perChunk = 2 * testMinRate * testBodyIdle / 2 / time.Second / 32 // twice the floor, in 32-byte rows
		for chunk := range 5 {
			time.Sleep(testBodyIdle / 2)
			var b strings.Builder
			for i := range int(perChunk) {
				fmt.Fprintf(&b, "S%02d%05d,s%05d@example.com\n", chunk, i, i)
			}
			if _, err := io.WriteString(pw, b.String()); err != nil {
				return
			}
		}
		pw.Close()
	}()
	resp, body := c.do("POST", "/api/v1/campaigns/"+id+"/imports?filename=steady.csv", "text/csv", pr, c.token)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("a steady upload above the floor: %d %s", resp.StatusCode, body)
	}
	if got := decode[importAnswer](t, body); got.Accepted != 5*int64(2*testMinRate*testBodyIdle/2/time.Second/32) {
		t.Errorf("accepted %d", got.Accepted)
	}
}

// rawUpload opens a connection of its own to the server and starts an import into campaign id
// announcing a 10 MB list, of which it sends only start: the test sends the rest (or not).
// The connection is closed when the test ends.
func (c *client) rawUpload(id, start string) net.Conn {
	c.t.Helper()
	u, _ := url.Parse(c.url)
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(func() { conn.Close() })
	fmt.Fprintf(conn, "POST /api/v1/campaigns/%s/imports?filename=slow.csv HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\n"+
		"Content-Type: text/csv\r\nContent-Length: 10000000\r\n\r\n%s", id, u.Host, c.token, start)
	return conn
}

// TestProgress_ABodyNeverSentDoesNotHoldTheConnection: a request that announces a body and
// sends none, to a route that answers without reading it (a 404 here), is answered at once
// and its connection closed — net/http's own read of the unread body had no deadline, and
// 21,000 such connections took every file descriptor of the server (a review).
func TestProgress_ABodyNeverSentDoesNotHoldTheConnection(t *testing.T) {
	srv := httptest.NewServer(api.Progress(api.Pace{Idle: time.Minute}, http.NotFoundHandler()))
	defer func() {
		srv.CloseClientConnections() // without the fix, a handler would wait on the body for ever
		srv.Close()
	}()
	for _, req := range []string{
		"POST /nope HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n",
		"POST /nope HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n",
	} {
		conn, err := net.Dial("tcp", srv.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := io.WriteString(conn, req); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatalf("%q: no answer: %v", req, err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound || !resp.Close {
			t.Errorf("%q: %d, close %v; want 404 and the connection closed", req, resp.StatusCode, resp.Close)
		}
		if _, err := conn.Read(make([]byte, 1)); err != io.EOF {
			t.Errorf("%q: the connection is still open after its answer (%v)", req, err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("%q: answered after %s", req, d)
		}
		conn.Close()
	}
}

// TestProgress_ABodyLeftUnreadButSentKeepsTheConnection: a body that is there ({} to a route
// that takes none) is read to its end for the handler, and the connection kept for the next
// request, as net/http did (the review of the first version closed every such connection).
func TestProgress_ABodyLeftUnreadButSentKeepsTheConnection(t *testing.T) {
	srv := httptest.NewServer(api.Progress(api.Pace{Idle: time.Minute}, http.NotFoundHandler()))
	defer srv.Close()
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(conn)
	for i := range 2 {
		if _, err := io.WriteString(conn, "POST /nope HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}"); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound || resp.Close {
			t.Errorf("request %d: %d, close %v; want 404 on a connection kept alive", i, resp.StatusCode, resp.Close)
		}
	}
}
