package operation

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/notice"
)

// Limits on a mailed or returned-mail file: a print vendor's or the post's list of a batch.
const (
	MaxLetterMarks     = 100_000
	maxLetterMarkBytes = 16 << 20
	maxMarkReason      = 200
)

// LettersMailed records printed letters as mailed: all of the campaign's printed letters when
// all says so (the print vendor posted the whole batch), else the customers file names (a CSV
// with a customer_id or a reference column, see LettersReturned). Each move is an event (source
// operator); a letter not printed is left as it is and, when the file named it, listed with its
// line and why. Audited (breach.ActionLettersMailed) with the counts.
//
// "All" is asked for, never inferred from a missing or empty file: the mailed date is the
// proof of notice, and an empty vendor file read as "every letter" would record thousands of
// letters as posted that were not.
func (s *Service) LettersMailed(ctx context.Context, actor breach.Actor, campaignID string, all bool, file io.Reader) (*breach.LetterMarkReport, error) {
	switch {
	case all && file != nil:
		return nil, breach.Errorf(breach.EINVALID, "letters mailed: either all printed letters or those a file names, not both")
	case !all && file == nil:
		return nil, breach.Errorf(breach.EINVALID, "letters mailed: name the letters posted with a CSV file (customer_id or reference), or say that every printed letter was posted (letters mailed --all; all=true in the API)")
	}
	return s.markLetters(ctx, actor, campaignID, file, []breach.DeliveryState{breach.DeliveryPrinted}, breach.DeliveryMailed, breach.ActionLettersMailed)
}

// LettersReturned records returned mail: the letters of the customers file names move from
// printed or mailed to returned, each with the file's reason (kept as the delivery's error).
// file is a CSV with a header naming customer_id or reference (the code printed on the
// letter, as the manifest lists it; case, spaces and dashes do not matter) and optionally
// reason. Lines that name no customer, an unknown one, one without a letter or whose letter
// cannot move come back as rejects with their line and why; the others move. Audited
// (breach.ActionLettersReturned) with the counts.
func (s *Service) LettersReturned(ctx context.Context, actor breach.Actor, campaignID string, file io.Reader) (*breach.LetterMarkReport, error) {
	if file == nil {
		return nil, breach.Errorf(breach.EINVALID, "returned mail: a CSV file naming the returned letters (customer_id or reference, and reason) is required")
	}
	return s.markLetters(ctx, actor, campaignID, file, []breach.DeliveryState{breach.DeliveryPrinted, breach.DeliveryMailed}, breach.DeliveryReturned, breach.ActionLettersReturned)
}

func (s *Service) markLetters(ctx context.Context, actor breach.Actor, campaignID string, file io.Reader,
	from []breach.DeliveryState, to breach.DeliveryState, action string) (*breach.LetterMarkReport, error) {
	if err := s.require(ctx, actor, breach.RoleOperator, "markLetters", campaignID); err != nil {
		return nil, err
	}
	secret, err := s.secret(ctx)
	if err != nil {
		return nil, err
	}
	c, err := s.campaign(ctx, campaignID)
	if err != nil {
		return nil, err
	}
	if c.Purged() {
		return nil, breach.Errorf(breach.ECONFLICT, "the campaign's personal data has been purged: its letters can no longer change")
	}
	rep := &breach.LetterMarkReport{CampaignID: c.ID, State: to, Rejects: []breach.Reject{}, At: time.Now().UTC()}
	if file == nil {
		if rep.Moved, err = s.Store.MoveAllLetters(ctx, c.ID, breach.DeliveryPrinted, to); err != nil {
			return nil, err
		}
	} else {
		marks, rejects, err := ParseLetterMarks(file)
		if err != nil {
			return nil, err
		}
		rep.Rejects = append(rep.Rejects, rejects...)
		if err := s.resolveReferences(ctx, secret, c.ID, &marks, &rep.Rejects); err != nil {
			return nil, err
		}
		if err := s.moveMarks(ctx, c.ID, marks, from, to, rep); err != nil {
			return nil, err
		}
		slices.SortFunc(rep.Rejects, func(a, b breach.Reject) int { return int(a.Line - b.Line) })
	}
	if err := s.audit(ctx, actor, action, c.ID, map[string]any{"moved": rep.Moved, "unchanged": rep.Unchanged,
		"rejected": len(rep.Rejects), "file": file != nil}); err != nil {
		return nil, err
	}
	return rep, nil
}

// moveMarks moves the resolved marks' letters and reports each that did not move.
func (s *Service) moveMarks(ctx context.Context, campaignID string, marks []breach.LetterMark,
	from []breach.DeliveryState, to breach.DeliveryState, rep *breach.LetterMarkReport) error {
	if len(marks) == 0 {
		return nil
	}
	moves := make([]breach.LetterMove, len(marks))
	lineOf := make(map[string]int64, len(marks))
	for i, m := range marks {
		moves[i] = breach.LetterMove{CustomerID: m.CustomerID, Reason: m.Reason}
		lineOf[m.CustomerID] = m.Line
	}
	results, err := s.Store.MoveLetters(ctx, campaignID, moves, from, to)
	if err != nil {
		return err
	}
	for _, r := range results {
		reject := func(format string, args ...any) {
			rep.Rejects = append(rep.Rejects, breach.Reject{Line: lineOf[r.CustomerID], CustomerID: r.CustomerID,
				Field: "customer_id", Reason: fmt.Sprintf(format, args...)})
		}
		switch {
		case r.Moved:
			rep.Moved++
		case !r.Known:
			reject("no customer %q in this campaign", r.CustomerID)
		case r.Was == "":
			reject("the customer has no letter (none was printed for them)")
		case r.Was == to:
			rep.Unchanged++ // already there: a file given twice changes nothing
		default:
			reject("the letter is %s: only a letter that is %s can become %s", r.Was, listOf(from), to)
		}
	}
	return nil
}

func listOf(states []breach.DeliveryState) string {
	names := make([]string, len(states))
	for i, st := range states {
		names[i] = string(st)
	}
	return strings.Join(names, " or ")
}

// resolveReferences gives each mark that names a reference only its customer, by computing
// the reference of every letter of the campaign (a reference is an HMAC: it cannot be looked
// up); marks whose reference is no letter's, or does not match the customer_id beside it,
// become rejects.
func (s *Service) resolveReferences(ctx context.Context, secret []byte, campaignID string, marks *[]breach.LetterMark, rejects *[]breach.Reject) error {
	wanted := map[string][]int{}
	for i, m := range *marks {
		if m.CustomerID == "" {
			wanted[normalizeReference(m.Reference)] = append(wanted[normalizeReference(m.Reference)], i)
		}
	}
	if len(wanted) > 0 {
		err := s.Store.LetterCustomers(ctx, campaignID, func(customerID string) error {
			if idx, ok := wanted[normalizeReference(notice.Reference(secret, campaignID, customerID))]; ok {
				for _, i := range idx {
					(*marks)[i].CustomerID = customerID
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	kept := (*marks)[:0]
	for _, m := range *marks {
		switch {
		case m.CustomerID == "":
			*rejects = append(*rejects, breach.Reject{Line: m.Line, Field: "reference",
				Reason: fmt.Sprintf("%q is the reference of none of this campaign's letters", m.Reference)})
		case m.Reference != "" && !notice.CheckReference(secret, campaignID, m.CustomerID, m.Reference):
			*rejects = append(*rejects, breach.Reject{Line: m.Line, CustomerID: m.CustomerID, Field: "reference",
				Reason: fmt.Sprintf("%q is not the reference of customer %q", m.Reference, m.CustomerID)})
		default:
			kept = append(kept, m)
		}
	}
	*marks = kept
	return nil
}

// normalizeReference is a reference as CheckReference compares it: upper case, no dashes or
// spaces, O read as 0 and I, L as 1.
func normalizeReference(code string) string {
	return strings.NewReplacer("-", "", " ", "", "O", "0", "I", "1", "L", "1").Replace(strings.ToUpper(code))
}

// ParseLetterMarks reads a mailed or returned-mail CSV: a header naming customer_id (or
// customer, customerid) and/or reference (or ref), and optionally reason; comma, semicolon or
// tab separated, UTF-8 (a BOM is skipped). Blank lines are skipped; a line naming neither a
// customer nor a reference, or that cannot be read, is a reject with its line and why. A file
// without such a header, or over MaxLetterMarks lines, is an EINVALID error.
func ParseLetterMarks(r io.Reader) ([]breach.LetterMark, []breach.Reject, error) {
	lr := &io.LimitedReader{R: r, N: maxLetterMarkBytes + 1}
	br := bufio.NewReader(lr)
	cr := csv.NewReader(br)
	cr.Comma = sniffDelimiter(br)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil, breach.Errorf(breach.EINVALID, "the file is empty: it needs a header naming customer_id or reference")
		}
		return nil, nil, breach.Errorf(breach.EINVALID, "line 1: %v", err)
	}
	idCol, refCol, reasonCol := -1, -1, -1
	for i, h := range header {
		switch strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\uFEFF"))) {
		case "customer_id", "customer", "customerid", "customer id":
			idCol = i
		case "reference", "ref", "reference_code", "reference code":
			refCol = i
		case "reason", "return_reason", "motivo", "motif":
			reasonCol = i
		}
	}
	if idCol < 0 && refCol < 0 {
		return nil, nil, breach.Errorf(breach.EINVALID, "line 1: the header names neither customer_id nor reference (it has: %s)", strings.Join(header, ", "))
	}
	var (
		marks   []breach.LetterMark
		rejects []breach.Reject
	)
	cell := func(rec []string, i int) string {
		if i < 0 || i >= len(rec) {
			return ""
		}
		return strings.TrimSpace(rec[i])
	}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		line, _ := cr.FieldPos(0)
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				rejects = append(rejects, breach.Reject{Line: int64(pe.StartLine), Reason: pe.Err.Error()})
				continue
			}
			return nil, nil, breach.Errorf(breach.EINVALID, "line %d: %v", line, err)
		}
		if len(marks)+len(rejects) >= MaxLetterMarks {
			return nil, nil, breach.Errorf(breach.EINVALID, "the file has more than %d lines: split it", MaxLetterMarks)
		}
		m := breach.LetterMark{Line: int64(line), CustomerID: cell(rec, idCol), Reference: cell(rec, refCol), Reason: cell(rec, reasonCol)}
		if m.CustomerID == "" && m.Reference == "" {
			if allBlank(rec) {
				continue
			}
			rejects = append(rejects, breach.Reject{Line: m.Line, Field: "customer_id", Reason: "names neither a customer_id nor a reference"})
			continue
		}
		if !utf8.ValidString(m.CustomerID+m.Reference+m.Reason) || strings.ContainsFunc(m.CustomerID+m.Reference+m.Reason, isControlRune) {
			rejects = append(rejects, breach.Reject{Line: m.Line, Reason: "invalid UTF-8 or a control character"})
			continue
		}
		if utf8.RuneCountInString(m.Reason) > maxMarkReason {
			m.Reason = string([]rune(m.Reason)[:maxMarkReason])
		}
		marks = append(marks, m)
	}
	if lr.N <= 0 {
		return nil, nil, breach.Errorf(breach.EINVALID, "the file is larger than %d MiB", maxLetterMarkBytes>>20)
	}
	return marks, rejects, nil
}

// sniffDelimiter guesses a small CSV's delimiter from its header line: the most frequent of
// comma, semicolon and tab (comma when none).
func sniffDelimiter(br *bufio.Reader) rune {
	head, _ := br.Peek(4096)
	if i := bytes.IndexByte(head, '\n'); i >= 0 {
		head = head[:i]
	}
	best, n := ',', bytes.Count(head, []byte{','})
	for _, d := range []rune{';', '\t'} {
		if c := bytes.Count(head, []byte{byte(d)}); c > n {
			best, n = d, c
		}
	}
	return best
}

func allBlank(rec []string) bool {
	for _, f := range rec {
		if strings.TrimSpace(f) != "" {
			return false
		}
	}
	return true
}

func isControlRune(r rune) bool { return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) }
