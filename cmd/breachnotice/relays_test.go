package main

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/breachnotice/breachnotice/internal/redistest"
	"github.com/breachnotice/breachnotice/internal/smtpsink"
)

// TestCLI_WorkerSendsThroughSeveralRelays drives the real binary with SMTP_URLS: two sinks
// weighted 3:1, one with a rate of its own, and a relay refusing connections. Every customer
// gets one email; campaign status, as JSON and as text, counts each relay's notices and shows
// the refusing one set aside.
func TestCLI_WorkerSendsThroughSeveralRelays(t *testing.T) {
	heavy, light := smtpsink.StartTB(t), smtpsink.StartTB(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refusing := l.Addr().(*net.TCPAddr).Port
	l.Close()

	const n = 200
	var list strings.Builder
	list.WriteString("customer_id,email,country\n")
	for i := range n {
		fmt.Fprintf(&list, "R%d,r%d@example.org,PE\n", i, i)
	}
	listFile := filepath.Join(t.TempDir(), "list.csv")
	os.WriteFile(listFile, []byte(list.String()), 0o600)
	id := createCampaign(t)
	for _, args := range [][]string{{"import", "--campaign", id, listFile}, {"campaign", "approve", id}} {
		if _, stderr, err := cli(t, "", args...); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, stderr)
		}
	}

	relays := fmt.Sprintf("smtp://127.0.0.1:%d?tls=none&weight=3&rate=1000, smtp://127.0.0.1:%d?tls=none&weight=2&timeout=1s,smtp://127.0.0.1:%d?tls=none",
		heavy.Port(), refusing, light.Port())
	cmd := exec.Command(bin, "worker")
	cmd.Env = append(os.Environ(), "DATABASE_URL="+dbURL, "REDIS_URL="+redistest.URL(t, redisDB),
		"BREACHNOTICE_SECRET="+testSecret, "SMTP_URLS="+relays,
		"OUTBOX_DIR="+t.TempDir(), "LOG_LEVEL=warn")
	var logs strings.Builder
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
		if t.Failed() {
			t.Logf("worker logs:\n%s", logs.String())
		}
	}()
	if _, stderr, err := cli(t, "", "campaign", "start", id); err != nil {
		t.Fatalf("start: %v\n%s", err, stderr)
	}
	waitFor(t, time.Minute, "completed", func() bool {
		return count(t, `SELECT count(*) FROM campaigns WHERE id = $1 AND state = 'completed'`, id) == 1
	})

	per := map[string]int{}
	for _, s := range []*smtpsink.Sink{heavy, light} {
		for _, m := range s.Messages() {
			per[m.To[0]]++
		}
	}
	for i := range n {
		if got := per[fmt.Sprintf("r%d@example.org", i)]; got != 1 {
			t.Errorf("customer R%d got %d emails, want 1", i, got)
		}
	}

	out, stderr, err := cli(t, "", "campaign", "status", id, "--json")
	if err != nil {
		t.Fatalf("status: %v\n%s", err, stderr)
	}
	var st struct {
		Relays []struct {
			Name          string     `json:"name"`
			Sent          int64      `json:"sent"`
			Failed        int64      `json:"failed"`
			SetAsideUntil *time.Time `json:"set_aside_until"`
		} `json:"relays"`
	}
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, r := range st.Relays {
		got[r.Name] = fmt.Sprintf("sent=%d failed>0=%v aside=%v", r.Sent, r.Failed > 0, r.SetAsideUntil != nil)
	}
	want := map[string]string{
		fmt.Sprintf("127.0.0.1:%d", heavy.Port()): fmt.Sprintf("sent=%d failed>0=false aside=false", heavy.Count()),
		fmt.Sprintf("127.0.0.1:%d", light.Port()): fmt.Sprintf("sent=%d failed>0=false aside=false", light.Count()),
		fmt.Sprintf("127.0.0.1:%d", refusing):     "sent=0 failed>0=true aside=true",
	}
	for name, w := range want {
		if got[name] != w {
			t.Errorf("status relay %s: %q, want %q\n%s", name, got[name], w, out)
		}
	}
	if heavy.Count() <= light.Count() {
		t.Errorf("weight 3 took %d emails, weight 1 %d", heavy.Count(), light.Count())
	}

	text, _, err := cli(t, "", "campaign", "status", id)
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("relay 127.0.0.1:%d: sent 0  failed ", refusing); !strings.Contains(text, want) || !strings.Contains(text, "set aside until") {
		t.Errorf("campaign status lacks the refusing relay's line %q:\n%s", want, text)
	}
}

// TestCLI_WorkerRefusesMalformedSMTPURLS: a bad relay stops the worker at once, naming the
// relay and the field, without the password.
func TestCLI_WorkerRefusesMalformedSMTPURLS(t *testing.T) {
	_, stderr, err := cliEnv(t, []string{"REDIS_URL=" + redistest.URL(t, redisDB), "BREACHNOTICE_SECRET=" + testSecret,
		"SMTP_URLS=smtp://u:hunter2@relay1.example:587, smtp://u:hunter2@relay2.example:587?weight=heavy"}, "worker")
	if err == nil {
		t.Fatal("the worker started with a malformed SMTP_URLS")
	}
	if !strings.Contains(stderr, `SMTP_URLS relay 2 (relay2.example:587): weight="heavy"`) || strings.Contains(stderr, "hunter2") {
		t.Errorf("worker error:\n%s", stderr)
	}
}
