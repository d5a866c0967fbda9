package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/breachnotice/breachnotice/internal/email"
)

// Campaigns are set up with the real binary, as an operator would: create from the example
// campaign file, import a generated list, approve. Only `campaign start` and what follows is
// measured by the send benchmarks.

// runBin runs `breachnotice args…` against dbURL and returns its standard output.
func (b *bench) runBin(ctx context.Context, dbURL string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, b.bin, args...)
	cmd.Env = b.env("DATABASE_URL=" + dbURL)
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("breachnotice %s: %w: %s", strings.Join(args[:min(2, len(args))], " "), err, stderrOf(err))
	}
	return out, nil
}

// createCampaign creates a draft campaign from the example campaign file.
func (b *bench) createCampaign(ctx context.Context, dbURL string) (string, error) {
	out, err := b.runBin(ctx, dbURL, "campaign", "create", "-f", b.campaignFile, "--json")
	if err != nil {
		return "", err
	}
	var c struct{ ID string }
	if err := json.Unmarshal(out, &c); err != nil {
		return "", err
	}
	return c.ID, nil
}

// approvedCampaign creates a campaign of n customers who all have an email address and no
// phone — the example campaign sends email only to them (email_first) — imports it and
// approves it. It returns the campaign's ID.
func (b *bench) approvedCampaign(ctx context.Context, dbURL string, n int, seed uint64) (string, error) {
	path := filepath.Join(b.dir, fmt.Sprintf("email-list-%d-%d.csv", n, seed))
	if err := writeEmailList(path, n, seed); err != nil {
		return "", err
	}
	defer os.Remove(path)
	id, err := b.createCampaign(ctx, dbURL)
	if err != nil {
		return "", err
	}
	out, err := b.runBin(ctx, dbURL, "import", "--campaign", id, "--json", path)
	if err != nil {
		return "", err
	}
	var r importResult
	if err := json.Unmarshal(out, &r); err != nil {
		return "", err
	}
	if r.Accepted != int64(n) {
		return "", fmt.Errorf("import accepted %d of %d customers", r.Accepted, n)
	}
	// The approval merges customers sharing an address (one notice per address): a pass over
	// the list per channel, shown here.
	start := time.Now()
	if _, err := b.runBin(ctx, dbURL, "campaign", "approve", id); err != nil {
		return "", err
	}
	progress("approved %d recipients in %.2f s (the merge of shared addresses included)", n, time.Since(start).Seconds())
	return id, nil
}

// writeEmailList writes n distinct customers with an email address and no phone, in the four
// countries and locales of the example campaign (so in every notice variant: es/gdpr,
// en/us-ca, fr/gdpr, ko/kr-pipa), each exposed in one to four categories. One in ten has no
// locale and gets the one of their country.
func writeEmailList(path string, n int, seed uint64) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	w := bufio.NewWriterSize(f, 1<<20)
	rng := rand.New(rand.NewPCG(seed, 7))
	total := 0
	for _, c := range countries {
		total += c.share
	}
	fmt.Fprintln(w, "customer_id,email,name,country,locale,exposed")
	for i := range n {
		pick, ci := rng.IntN(total), 0
		for pick >= countries[ci].share {
			pick -= countries[ci].share
			ci++
		}
		c := countries[ci]
		name := c.firstNames[rng.IntN(len(c.firstNames))] + " " + c.lastNames[rng.IntN(len(c.lastNames))]
		locale := c.locale
		if rng.IntN(10) == 0 {
			locale = ""
		}
		var exp []string
		for range 1 + rng.IntN(4) {
			if cat := categories[rng.IntN(len(categories))]; !slices.Contains(exp, cat) {
				exp = append(exp, cat)
			}
		}
		fmt.Fprintf(w, "%s,cust%d.%d@example%d.com,%s,%s,%s,%s\n",
			customerID(i), i, seed, i%97, name, c.country, locale, strings.Join(exp, "|"))
	}
	return w.Flush()
}

func customerID(i int) string { return fmt.Sprintf("BN-%08d", i) }

// sampleMessages renders the email notices of the campaign's first n customers (a sample of
// its mix of locales, jurisdictions and exposed categories, hence of sizes) for the raw
// limits, which then send and sign the same bytes the product does.
func (b *bench) sampleMessages(ctx context.Context, dbURL, id string, n int) ([]email.Message, error) {
	var ms []email.Message
	for i := range n {
		m, err := b.previewMessage(ctx, dbURL, id, customerID(i))
		if err != nil {
			return nil, err
		}
		ms = append(ms, m)
	}
	return ms, nil
}

// previewMessage renders the email notice of one customer of the campaign with `breachnotice
// preview`. The sender is the example campaign's.
func (b *bench) previewMessage(ctx context.Context, dbURL, id, customer string) (email.Message, error) {
	out, err := b.runBin(ctx, dbURL, "preview", "--campaign", id, "--customer", customer, "--channel", "email", "--json")
	if err != nil {
		return email.Message{}, err
	}
	var p struct{ Subject, HTML, Text, Reference string }
	if err := json.Unmarshal(out, &p); err != nil {
		return email.Message{}, err
	}
	return email.Message{
		From:           "seguridad@notificaciones.andinatel.com.pe",
		FromName:       "Andina Telecom – Seguridad de la Información",
		ReplyTo:        "privacidad@andinatel.com.pe",
		To:             "customer@example.com",
		Subject:        p.Subject,
		HTML:           p.HTML,
		Text:           p.Text,
		UnsubscribeURL: "https://notice.andinatel.com.pe/u/tok_0123456789abcdef.0123456789abcdef",
		Reference:      p.Reference,
	}, nil
}
