package postgres

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/breachnotice/breachnotice/internal/breach"
)

// TokensChannel is the PostgreSQL notification channel on which a change to any token or user
// is announced (migration 00018's triggers).
const TokensChannel = "breachnotice_tokens"

// tokenCacheFor is how long a checked token is answered from memory at most: a minute, the
// period of its last-use note, which a lookup in the database writes.
const tokenCacheFor = time.Minute

// tokenCache keeps the tokens TokenByHash found live, by hash, so that an API request costs no
// query to check its token: a query per request was a round trip of every request, each a wait
// to be scheduled again on a busy machine. It is trusted only while a listener (CacheTokens)
// hears the announcements of changes; each clears it, and a lookup that began before a change
// stores nothing (gen), so a revoked token or a disabled user is refused as soon as the
// notification arrives — milliseconds after the revocation committed.
type tokenCache struct {
	mu      sync.Mutex
	live    bool   // a listener is listening
	gen     uint64 // moves at every change heard and every (dis)connection of the listener
	entries map[string]tokenEntry
}

type tokenEntry struct {
	token   breach.Token
	expires *time.Time
	read    time.Time
}

// maxCachedTokens bounds the cache: beyond, it starts again empty.
const maxCachedTokens = 10_000

// get returns the cached live token with hash, if any.
func (c *tokenCache) get(hash []byte, now time.Time) (*breach.Token, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[string(hash)]
	if !ok || !c.live || now.Sub(e.read) > tokenCacheFor || (e.expires != nil && !now.Before(*e.expires)) {
		return nil, false
	}
	t := e.token
	if t.User != nil {
		u := *t.User
		t.User = &u
	}
	return &t, true
}

// generation returns the generation to hand put, and whether storing is of any use.
func (c *tokenCache) generation() (uint64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen, c.live
}

// put stores a token read from the database at generation gen, unless anything changed since.
func (c *tokenCache) put(hash []byte, gen uint64, e tokenEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.live || c.gen != gen {
		return
	}
	if c.entries == nil || len(c.entries) >= maxCachedTokens {
		c.entries = map[string]tokenEntry{}
	}
	if e.token.User != nil {
		u := *e.token.User
		e.token.User = &u
	}
	c.entries[string(hash)] = e
}

// reset forgets every token and says whether the cache may be trusted from now on.
func (c *tokenCache) reset(live bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.live = live
	clear(c.entries)
}

// CacheTokens lets TokenByHash answer from memory while it runs, listening on a connection of
// its own for the changes that must end that at once (TokensChannel); listening, when not nil,
// is called once the listener is in place. It returns when ctx ends (nil) or the connection
// fails; every lookup then reads the database again, until the caller runs it again. `serve`
// runs it: the API checks a token at every request.
func (db *DB) CacheTokens(ctx context.Context, listening func()) error {
	defer db.tokens.reset(false)
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("listen for token changes: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `LISTEN `+TokensChannel); err != nil {
		return fmt.Errorf("listen for token changes: %w", err)
	}
	// Listening from here: whatever changes from now on is heard.
	db.tokens.reset(true)
	if listening != nil {
		listening()
	}
	for {
		if _, err := conn.Conn().WaitForNotification(ctx); err != nil {
			// The connection may be mid-wait; it must not go back to the pool listening.
			conn.Conn().Close(context.Background())
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("listen for token changes: %w", err)
		}
		db.tokens.reset(true)
	}
}
