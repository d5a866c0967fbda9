package operation

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/csvsafe"
	"github.com/breachnotice/breachnotice/internal/letter"
	"github.com/breachnotice/breachnotice/internal/notice"
)

// LetterStore keeps the letters: deliveries on the channel letter (see package postgres,
// letters.go). The sending engine never reads or writes them.
type LetterStore interface {
	// PrepareLetters checks that the campaign may have letters (breach.CheckLetters) and makes
	// its delivery partitions ready, under the campaign's lock; it returns the campaign.
	PrepareLetters(ctx context.Context, campaignID string) (*breach.Campaign, error)
	// LettersDue returns up to limit recipients owed a letter under policy, with IDs above
	// after, in ID order, each with the state of their letter ("" when none yet). Recipients
	// who have a letter are always included.
	LettersDue(ctx context.Context, campaignID string, policy breach.LetterPolicy, after int64, limit int) ([]breach.LetterDue, error)
	// MarkLettersPrinted creates the letters of recipients ids as printed (locales: each one's
	// locale), moves pending ones to printed, leaves the others, and returns how many it
	// printed for the first time.
	MarkLettersPrinted(ctx context.Context, campaignID string, ids []int64, locales []string) (int64, error)
	// MoveLetters moves the named customers' letters in a state of from to state to, with a
	// reason each, and says what became of each.
	MoveLetters(ctx context.Context, campaignID string, moves []breach.LetterMove, from []breach.DeliveryState, to breach.DeliveryState) ([]breach.LetterMoveResult, error)
	// MoveAllLetters moves every letter in state from to state to and returns how many moved.
	MoveAllLetters(ctx context.Context, campaignID string, from, to breach.DeliveryState) (int64, error)
	// LetterCustomers calls fn with the customer ID of each of the campaign's letters.
	LetterCustomers(ctx context.Context, campaignID string, fn func(customerID string) error) error
}

// letterStep is how many letters a run reads, writes and records at a time: the memory a run
// holds (a step's recipients; each PDF goes to the sink as it is written) and the size of its
// transactions.
const letterStep = 200

// LetterWriter writes one letter as a PDF and returns its pages (letter.Write).
type LetterWriter func(w io.Writer, l *letter.Letter) (pages int, err error)

// LetterContent renders one customer's letter (notice.Renderer.Letter).
type LetterContent func(c *breach.Campaign, r *breach.Recipient) (*notice.Letter, error)

func (s *Service) letterWriter() LetterWriter {
	if s.WriteLetter != nil {
		return s.WriteLetter
	}
	return letter.Write
}

func (s *Service) letterContent() LetterContent {
	if s.RenderLetter != nil {
		return s.RenderLetter
	}
	return s.Renderer.Letter
}

// Letters writes a campaign's print-ready letters to the sink open returns: one PDF per
// customer owed a letter under the campaign's letter_policy (breach.LetterPolicy: by default
// those with a postal address and neither email nor phone; none for a customer an email or SMS
// reaches, unless the policy is all), in their language, on the paper of their country, then
// manifest.csv for the print vendor — customer_id, reference, the address lines as printed,
// pages, file — every cell escaped against formula injection (csvsafe).
//
// The campaign must be approved, running, paused or completed (breach.CheckLetters). Letters
// written are recorded printed (a delivery on the channel letter with its event, source
// operator) step by step as they leave. A letter that would not print as written
// (letter.UnprintableError: a script the typefaces lack, right-to-left text, an address line
// too long for the window) is held: not written nor recorded, listed in the report and in
// held.csv (customer_id, reference, reason) after the manifest, for the team to send another
// way; it stays pending (not reached), and one such customer never stops the others' letters. A run is repeatable: a second run writes the same
// customers' letters again — and any new ones owed since (fallback) — without new deliveries
// or events for those already printed, mailed or returned; Printed counts the new ones.
//
// It reads every such customer's name and address: audited before the first letter leaves
// (action breach.ActionLettersPrinted, stage started; refused with EUNAVAILABLE when the audit
// log cannot take it), and again when the run ends with what it wrote. Memory stays bounded:
// letterStep recipients at a time, each PDF streamed to the sink, the manifest spooled to a
// temporary file until the letters are written. open is called once the read is audited (a
// door sets its headers there).
func (s *Service) Letters(ctx context.Context, actor breach.Actor, campaignID string, open func(c *breach.Campaign) (LetterSink, error)) (*breach.LettersReport, error) {
	if err := s.require(ctx, actor, breach.RoleOperator, "Letters", campaignID); err != nil {
		return nil, err
	}
	secret, err := s.secret(ctx)
	if err != nil {
		return nil, err
	}
	id, err := breach.ParseID("campaign", campaignID)
	if err != nil {
		return nil, err
	}
	c, err := s.Store.PrepareLetters(ctx, id)
	if err != nil {
		return nil, err
	}
	// A letter is a notice like an email: printed from the templates it was approved with.
	if err := c.CheckTemplates(s.Renderer.Digest()); err != nil {
		return nil, err
	}
	if err := s.auditRead(ctx, actor, breach.ActionLettersPrinted, c.ID, map[string]any{"stage": "started", "policy": c.LetterPolicy()}); err != nil {
		return nil, err
	}
	rep := &breach.LettersReport{CampaignID: c.ID, Held: []breach.HeldLetter{}}
	err = s.writeLetters(ctx, c, secret, open, rep)
	if aerr := s.audit(ctx, actor, breach.ActionLettersPrinted, c.ID, map[string]any{"stage": "finished",
		"letters": rep.Letters, "printed": rep.Printed, "held": len(rep.Held), "complete": err == nil}); aerr != nil && err == nil {
		err = aerr
	}
	if err != nil {
		return rep, err
	}
	return rep, nil
}

// writeLetters is Letters's run, once audited.
func (s *Service) writeLetters(ctx context.Context, c *breach.Campaign, secret []byte, open func(c *breach.Campaign) (LetterSink, error), rep *breach.LettersReport) (err error) {
	spool, err := os.CreateTemp("", "breachnotice-manifest-*.csv")
	if err != nil {
		return fmt.Errorf("letters: spool the manifest: %w", err)
	}
	defer os.Remove(spool.Name())
	defer spool.Close()
	manifest := csvsafe.NewWriter(spool)
	// The address block as printed: the name, then up to six lines (manifestLines in all).
	if err := manifest.Write("customer_id", "reference", "name", "address_line1", "address_line2", "address_line3",
		"address_line4", "address_line5", "address_line6", "pages", "file"); err != nil {
		return fmt.Errorf("letters: spool the manifest: %w", err)
	}
	sink, err := open(c)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := sink.Close(); cerr != nil && err == nil {
			err = cerr
		}
	}()
	write, content := s.letterWriter(), s.letterContent()
	from := letterFrom(c)
	negotiate := breach.LocaleNegotiator(c)
	policy := c.LetterPolicy()
	var (
		after   int64
		ids     []int64
		locales []string
		pdf     bytes.Buffer // one letter at a time: written to the sink only once it is whole
	)
	for {
		due, err := s.Store.LettersDue(ctx, c.ID, policy, after, letterStep)
		if err != nil {
			return err
		}
		if len(due) == 0 {
			break
		}
		ids, locales = ids[:0], locales[:0]
		for _, d := range due {
			r := d.Recipient
			after = r.ID
			body, err := content(c, r)
			if err != nil {
				return fmt.Errorf("letters: render the letter of recipient %d: %w", r.ID, err)
			}
			l := &letter.Letter{Paper: letter.PaperFor(r.Postal.Country), From: from,
				To: r.Postal.Label(r.Name, c.DefaultCountry), Content: body}
			pdf.Reset()
			pages, err := write(&pdf, l)
			if unprintable, ok := errors.AsType[*letter.UnprintableError](err); ok {
				rep.Held = append(rep.Held, breach.HeldLetter{CustomerID: r.CustomerID, Reason: unprintable.Reason})
				continue
			}
			if err != nil {
				return fmt.Errorf("letters: write the letter of recipient %d: %w", r.ID, err)
			}
			name := letterFileName(rep.Letters+1, r.CustomerID)
			w, err := sink.Create(name)
			if err != nil {
				return err
			}
			if _, err := w.Write(pdf.Bytes()); err != nil {
				return fmt.Errorf("letters: write %s: %w", name, err)
			}
			rep.Letters++
			rep.Pages += int64(pages)
			row := make([]string, 0, 11)
			row = append(row, r.CustomerID, notice.Reference(secret, c.ID, r.CustomerID))
			lines := l.To
			for i := range manifestLines {
				if i < len(lines) {
					row = append(row, lines[i])
				} else {
					row = append(row, "")
				}
			}
			row = append(row, strconv.Itoa(pages), name)
			if err := manifest.Write(row...); err != nil {
				return fmt.Errorf("letters: spool the manifest: %w", err)
			}
			ids, locales = append(ids, r.ID), append(locales, negotiate(r.Locale, r.Country))
		}
		if len(ids) == 0 {
			if len(due) < letterStep {
				break
			}
			continue
		}
		printed, err := s.Store.MarkLettersPrinted(ctx, c.ID, ids, locales)
		if err != nil {
			return err
		}
		rep.Printed += printed
		if len(due) < letterStep {
			break
		}
	}
	if err := manifest.Flush(); err != nil {
		return fmt.Errorf("letters: spool the manifest: %w", err)
	}
	if _, err := spool.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("letters: read the manifest back: %w", err)
	}
	w, err := sink.Create("manifest.csv")
	if err != nil {
		return err
	}
	if _, err := io.Copy(w, spool); err != nil {
		return fmt.Errorf("letters: write the manifest: %w", err)
	}
	if len(rep.Held) == 0 {
		return nil
	}
	if w, err = sink.Create("held.csv"); err != nil {
		return err
	}
	held := csvsafe.NewWriter(w)
	if err := held.Write("customer_id", "reference", "reason"); err != nil {
		return fmt.Errorf("letters: write held.csv: %w", err)
	}
	for _, h := range rep.Held {
		if err := held.Write(h.CustomerID, notice.Reference(secret, c.ID, h.CustomerID), h.Reason); err != nil {
			return fmt.Errorf("letters: write held.csv: %w", err)
		}
	}
	if err := held.Flush(); err != nil {
		return fmt.Errorf("letters: write held.csv: %w", err)
	}
	return nil
}

// manifestLines is how many lines of a letter's address block the manifest has columns for
// (the name and six lines: more than any country's format makes).
const manifestLines = 7

// letterFrom is a letter's return address: the organisation's name and its postal address
// from the campaign file, or, when the file gives none, its support phone and website.
func letterFrom(c *breach.Campaign) []string {
	from := []string{c.Organization.Name}
	if len(c.Organization.PostalAddress) > 0 {
		return append(from, c.Organization.PostalAddress...)
	}
	return append(from, c.Organization.SupportPhone, c.Organization.SupportURL)
}

// letterFileName names the n-th letter of a run: its number (so that the files sort in the
// manifest's order) and the customer ID reduced to characters safe in any file system and zip
// (a customer ID comes from a list anyone may have influenced: no path, no "..").
func letterFileName(n int64, customerID string) string {
	var b strings.Builder
	for _, r := range customerID {
		if b.Len() >= 48 {
			break
		}
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	return fmt.Sprintf("%06d-%s.pdf", n, b.String())
}
