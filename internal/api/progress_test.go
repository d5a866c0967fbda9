package api_test

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestProgress_AStalledUploadIsCutOffAndReleasesTheCampaign: an upload that stops sending
// keeps neither its connection nor the campaign's lock — the next import of the same campaign
// goes through.
func TestProgress_AStalledUploadIsCutOffAndReleasesTheCampaign(t *testing.T) {
	c := newServer(t)
	id := c.createCampaign()
	u, _ := url.Parse(c.url)
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// Announce 10 MB, send two rows, then nothing.
	fmt.Fprintf(conn, "POST /api/v1/campaigns/%s/imports?filename=slow.csv HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\n"+
		"Content-Type: text/csv\r\nContent-Length: 10000000\r\n\r\ncustomer_id,email\nS1,s1@example.com\nS2,s2@example.com\n", id, u.Host, c.token)
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
