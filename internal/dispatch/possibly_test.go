package dispatch

import (
	"context"
	"testing"
	"time"

	"github.com/breachnotice/breachnotice/internal/email"
)

// A relay that takes a message but answers its end of data after our timeout may have
// delivered it: the retry's copy is a possible duplicate, and the record says so (review of the
// public endpoints, finding 4: two copies reached the customer, and the record said nothing).
func TestSend_ALostAnswerAfterTheDataCountsAPossibleDuplicate(t *testing.T) {
	w := newWorld(t)
	const n = 20
	slow := map[string]bool{}
	for i := range n {
		if i%4 == 1 && i%5 != 0 { // with an email address
			slow[w.email(i)] = true
		}
	}
	tries := &attempts{n: map[string]int{}}
	w.sink.Fault = func(to string, _ []byte) error {
		if slow[to] && tries.next(to) == 1 {
			time.Sleep(3 * time.Second) // the relay queued it; its 250 comes long after our 1 s timeout
		}
		return nil
	}
	w.mailer = email.NewSender(email.Config{Host: "127.0.0.1", Port: w.sink.Port(), TLS: email.TLSNone, Timeout: time.Second}, nil, 8)
	c := w.campaign(n, nil)
	stop := w.run(w.engine(nil))
	defer stop()
	w.start(c)
	s := w.wait(c, time.Minute, "completed", completed)
	// The relay stores a slow customer's first copy only once its late answer is written:
	// after the retry's copy, maybe after the campaign completed.
	var got map[string]int
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		got = w.received()
		all := true
		for addr := range slow {
			all = all && got[addr] >= 2
		}
		if all || time.Now().After(deadline) {
			break
		}
	}
	twice := 0
	for addr := range slow {
		var dups int
		var errText string
		if err := w.pool.QueryRow(context.Background(), `SELECT d.possible_duplicates, coalesce(d.error, '') FROM deliveries d
			JOIN recipients r ON r.campaign_id = d.campaign_id AND r.id = d.recipient_id
			WHERE d.campaign_id = $1 AND d.channel = 'email' AND r.email = $2`, c.ID, addr).Scan(&dups, &errText); err != nil {
			t.Fatal(err)
		}
		if got[addr] > 1 {
			twice++
		}
		if got[addr] > 1 && (dups == 0 || errText == "") {
			t.Errorf("%d copies delivered to one customer; the record counts %d possible duplicates (error %q)", got[addr], dups, errText)
		}
	}
	if twice == 0 {
		t.Fatalf("no customer got two copies: the test proves nothing (received %v)", got)
	}
	if s.PossibleDuplicates < int64(twice) {
		t.Errorf("the status counts %d possible duplicates, want at least the %d customers who got two copies", s.PossibleDuplicates, twice)
	}
}
