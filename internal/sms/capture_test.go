package sms

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestCapture_ConcurrentSendsWriteOneJSONLineEachWithUniqueIDs(t *testing.T) {
	path := filepath.Join(t.TempDir(), "outbox", "sms.jsonl")
	c := &Capture{Path: path}
	const workers, each = 8, 50
	var wg sync.WaitGroup
	returned := make(chan string, workers*each)
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				id, err := c.Send(t.Context(), Message{
					To: fmt.Sprintf("+3361234%02d%02d", w, i), Body: fmt.Sprintf("notice %d/%d \"quoted\"\nline two", w, i),
					StatusCallback: "https://notice.example.com/cb",
				})
				if err != nil {
					t.Error(err)
				}
				returned <- id
			}
		})
	}
	wg.Wait()
	close(returned)

	lines := readCapture(t, path)
	if len(lines) != workers*each {
		t.Fatalf("%d lines, want %d", len(lines), workers*each)
	}
	ids, bodies := map[string]bool{}, map[string]bool{}
	for _, l := range lines {
		if ids[l.ID] {
			t.Errorf("ID %s written twice", l.ID)
		}
		ids[l.ID] = true
		bodies[l.Body] = true
		if !strings.HasPrefix(l.ID, "capture-") || l.StatusCallback != "https://notice.example.com/cb" || time.Since(l.At) > time.Minute {
			t.Errorf("bad line %+v", l)
		}
	}
	for id := range returned {
		if !ids[id] {
			t.Errorf("Send returned %s, which is not in the file", id)
		}
	}
	if len(bodies) != workers*each {
		t.Errorf("%d distinct bodies, want %d", len(bodies), workers*each)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("capture file mode: %v %v (it holds personal data)", fi.Mode(), err)
	}
}

func TestCapture_NumberingContinuesAfterARestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sms.jsonl")
	msg := Message{To: "+14155550100", Body: "hello"}
	first, err := (&Capture{Path: path}).Send(t.Context(), msg)
	if err != nil || first != "capture-1" {
		t.Fatalf("first send: %q, %v", first, err)
	}
	second, err := (&Capture{Path: path}).Send(t.Context(), msg) // a new process, same file
	if err != nil || second != "capture-2" {
		t.Fatalf("after restart: %q, %v", second, err)
	}
}

func TestCapture_RefusesWhatTwilioWouldRefuse(t *testing.T) {
	c := &Capture{Path: filepath.Join(t.TempDir(), "sms.jsonl")}
	_, err := c.Send(t.Context(), Message{To: "0612345678", Body: "hello"})
	if e, ok := errors.AsType[*Error](err); !ok || !e.Permanent {
		t.Fatalf("got %#v, want a permanent *Error", err)
	}
	if _, err := (&Capture{}).Send(t.Context(), Message{To: "+14155550100", Body: "hello"}); err == nil {
		t.Error("a Capture without a path accepted a message")
	}
}

func readCapture(t *testing.T, path string) []captured {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []captured
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var raw map[string]json.RawMessage
		if err := json.Unmarshal(sc.Bytes(), &raw); err != nil {
			t.Fatalf("line %q is not JSON: %v", sc.Text(), err)
		}
		for _, k := range []string{"id", "to", "body", "status_callback", "at"} {
			if _, ok := raw[k]; !ok || len(raw) != 5 {
				t.Fatalf("line %q: want exactly id, to, body, status_callback, at", sc.Text())
			}
		}
		var c captured
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			t.Fatal(err)
		}
		out = append(out, c)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
