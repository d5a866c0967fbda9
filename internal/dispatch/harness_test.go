package dispatch

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"

	"github.com/breachnotice/breachnotice/examples"
	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/campaignfile"
	"github.com/breachnotice/breachnotice/internal/email"
	"github.com/breachnotice/breachnotice/internal/importer"
	"github.com/breachnotice/breachnotice/internal/logtest"
	"github.com/breachnotice/breachnotice/internal/notice"
	"github.com/breachnotice/breachnotice/internal/pgtest"
	"github.com/breachnotice/breachnotice/internal/postgres"
	"github.com/breachnotice/breachnotice/internal/redistest"
	"github.com/breachnotice/breachnotice/internal/sms"
	"github.com/breachnotice/breachnotice/internal/smtpsink"
)

var dbURL string

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m, &dbURL)) }

var testSecret = []byte("dispatch-test-secret-dispatch-test!!")

// redisDB is this package's Redis database (see internal/redistest).
const redisDB = 1

// world is one test's sending setup: the real database, Redis, an SMTP sink and a Twilio fake.
type world struct {
	t        *testing.T
	db       *postgres.DB
	rdb      redis.UniversalClient
	sink     *smtpsink.Sink
	twilio   *fakeTwilio
	renderer *notice.Renderer
	logs     *logtest.Buffer
	cfg      Config
	mailer   *email.Sender
	// tag makes this test's addresses its own: c<i>.<tag>@example.com.
	tag string
	// pool is a direct connection for the checks the store has no method for.
	pool *pgxpool.Pool
}

func newWorld(t *testing.T) *world {
	t.Helper()
	ctx := context.Background()
	db, err := postgres.Open(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	pool, err := pgxpool.New(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	opt, err := redis.ParseURL(redistest.URL(t, redisDB))
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opt)
	t.Cleanup(func() { rdb.Close() })
	sink := smtpsink.StartTB(t)
	rd, err := notice.New("", testSecret)
	if err != nil {
		t.Fatal(err)
	}
	w := &world{t: t, db: db, rdb: rdb, sink: sink, twilio: newFakeTwilio(t), renderer: rd, logs: &logtest.Buffer{}, pool: pool,
		tag: fmt.Sprintf("t%d", time.Now().UnixNano()%1_000_000_007)}
	w.cfg = Config{
		ChunkSize: 64, RetryBase: 50 * time.Millisecond, RetryMax: 200 * time.Millisecond,
		ReconcileEvery: 300 * time.Millisecond, HeartbeatEvery: 100 * time.Millisecond, StaleAfter: time.Second,
		ShutdownTimeout: 5 * time.Second, PublicURL: "https://notice.andinatel.example", Secret: testSecret,
	}
	w.mailer = email.NewSender(email.Config{Host: "127.0.0.1", Port: sink.Port(), TLS: email.TLSNone, Timeout: 2 * time.Second}, nil, 8)
	t.Cleanup(func() { w.mailer.Close() })
	return w
}

// engine returns an engine on the world's services, logging into w.logs.
func (w *world) engine(mail Mailer) *Engine { return w.engineOn(w.db, mail) }

// engineOn returns an engine on the world's services with store as its record (the world's
// database behind a fault, see outageStore).
func (w *world) engineOn(store breach.DeliveryStore, mail Mailer) *Engine {
	if mail == nil {
		mail = w.mailer
	}
	log := slog.New(slog.NewTextHandler(w.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	tw := &sms.Twilio{AccountSID: "AC0123456789abcdef0123456789abcdef", AuthToken: "token", From: "AndinaTel", BaseURL: w.twilio.srv.URL}
	return New(w.cfg, store, w.rdb, w.renderer, mail, tw, log)
}

// run starts e and returns a function that stops it and waits.
func (w *world) run(e *Engine) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	return func() {
		cancel()
		if err := <-done; err != nil {
			w.t.Errorf("engine: %v", err)
		}
	}
}

// campaign creates, imports, approves and (unless !start) starts a campaign of n generated
// customers: customer i has an email unless i%5 == 0 and a phone when i%2 == 0, so a fifth are
// SMS-only. edit, if set, changes the campaign before it is stored.
func (w *world) campaign(n int, edit func(*breach.Campaign)) *breach.Campaign {
	w.t.Helper()
	return w.campaignOf(w.customers(n), edit)
}

// campaignOf is campaign with list as its customer list.
func (w *world) campaignOf(list string, edit func(*breach.Campaign)) *breach.Campaign {
	w.t.Helper()
	ctx := context.Background()
	c, src, err := campaignfile.Parse("campaign.yaml", bytes.NewReader(examples.Campaign))
	if err != nil {
		w.t.Fatal(err)
	}
	if edit != nil {
		edit(c)
	}
	c.CreatedBy = "test"
	if err := w.db.CreateCampaign(ctx, c, string(src)); err != nil {
		w.t.Fatal(err)
	}
	im, err := importer.New(w.db)
	if err != nil {
		w.t.Fatal(err)
	}
	if _, err := im.Run(ctx, c, &breach.Import{CampaignID: c.ID, Filename: "list.csv"}, strings.NewReader(list), importer.Options{}); err != nil {
		w.t.Fatal(err)
	}
	if _, err := w.db.ApproveCampaign(ctx, c.ID, "approver", "", "", func(*breach.Campaign, []string, []breach.Approval) (int, error) { return 1, nil }); err != nil {
		w.t.Fatal(err)
	}
	// Leave no campaign running for the next test's workers.
	w.t.Cleanup(func() { w.db.MoveCampaign(context.Background(), c.ID, "test", "", breach.CampaignCancelled) })
	return c
}

func (w *world) start(c *breach.Campaign) {
	w.t.Helper()
	if _, err := w.db.MoveCampaign(context.Background(), c.ID, "operator", breach.CampaignApproved, breach.CampaignRunning); err != nil {
		w.t.Fatal(err)
	}
}

// customers is a generated customer list of n rows (see campaign).
func (w *world) customers(n int) string {
	var b strings.Builder
	b.WriteString("customer_id,email,phone,name,country,exposed\n")
	countries := []string{"PE", "US", "FR", "KR"}
	for i := range n {
		mail, phone := "", ""
		if i%5 != 0 {
			mail = w.email(i)
		}
		if i%2 == 0 {
			phone = w.phone(i)
		}
		fmt.Fprintf(&b, "C%d,%s,%s,Cliente %d,%s,name|phone\n", i, mail, phone, i, countries[i%len(countries)])
	}
	return b.String()
}

// email and phone are customer i's addresses.
func (w *world) email(i int) string { return fmt.Sprintf("c%d.%s@example.com", i, w.tag) }
func (w *world) phone(i int) string { return fmt.Sprintf("+519%08d", 10000000+i) }

// received counts the messages the sink accepted per recipient address.
func (w *world) received() map[string]int {
	n := map[string]int{}
	for _, m := range w.sink.Messages() {
		n[m.To[0]]++
	}
	return n
}

// wait polls until the campaign's status satisfies done, or fails the test after limit.
func (w *world) wait(c *breach.Campaign, limit time.Duration, what string, done func(*breach.CampaignStatus) bool) *breach.CampaignStatus {
	w.t.Helper()
	deadline := time.Now().Add(limit)
	for {
		// An error is retried: some tests cut the database connections on purpose.
		s, err := w.db.CampaignStatus(context.Background(), c.ID)
		if err == nil && done(s) {
			return s
		}
		if time.Now().After(deadline) {
			w.t.Fatalf("after %v, still not %s: %+v (%v)\nlogs:\n%s", limit, what, s, err, tail(w.logs.String(), 3000))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func completed(s *breach.CampaignStatus) bool { return s.State == breach.CampaignCompleted }

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// fakeTwilio speaks the part of Twilio's Messages API that sms.Twilio uses and counts the
// messages per number. respond, if set, answers instead (return false to accept after all).
type fakeTwilio struct {
	srv     *httptest.Server
	mu      sync.Mutex
	n       int
	byTo    map[string]int
	bodies  map[string]string
	respond func(w http.ResponseWriter, to string) bool
}

func newFakeTwilio(t *testing.T) *fakeTwilio {
	f := &fakeTwilio{byTo: map[string]int{}, bodies: map[string]string{}}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "/Messages.json") {
			http.Error(w, `{"code":20404}`, http.StatusNotFound)
			return
		}
		if err := r.ParseForm(); err != nil {
			http.Error(w, `{"code":21000}`, http.StatusBadRequest)
			return
		}
		to := r.PostForm.Get("To")
		if f.respond != nil && f.respond(w, to) {
			return
		}
		f.mu.Lock()
		f.n++
		sid := fmt.Sprintf("SM%032x", f.n)
		f.byTo[to]++
		f.bodies[to] = r.PostForm.Get("Body")
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, `{"sid":%q,"status":"queued"}`, sid)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeTwilio) counts() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]int{}
	for k, v := range f.byTo {
		out[k] = v
	}
	return out
}
