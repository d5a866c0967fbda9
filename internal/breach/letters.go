package breach

import (
	"slices"
	"time"
)

// LetterPolicy says which customers are owed a postal letter (campaign file: letter_policy).
// Only a customer whose list row gave a postal address can be owed one.
type LetterPolicy string

const (
	// LettersNone: no letters. Customers reachable only by post are then not notified at
	// all; the campaign file must say so on purpose.
	LettersNone LetterPolicy = "none"
	// LettersUnreachable: a letter to each customer with an address and neither an email
	// address nor a phone number: the default.
	LettersUnreachable LetterPolicy = "unreachable"
	// LettersFallback: as LettersUnreachable, and a letter to each customer with an address
	// whose email and SMS notices all ended for good without reaching them (bounced, failed or
	// suppressed), once nothing of theirs is still being sent.
	LettersFallback LetterPolicy = "fallback"
	// LettersAll: a letter to every customer with an address, whatever else they get (US
	// states treat the written notice as the default one).
	LettersAll LetterPolicy = "all"
)

// LetterPolicies lists the valid policies.
var LetterPolicies = []LetterPolicy{LettersNone, LettersUnreachable, LettersFallback, LettersAll}

// LetterPolicy returns the campaign's letter policy, LettersUnreachable when its file (or a
// campaign stored before letters existed) names none.
func (c *Campaign) LetterPolicy() LetterPolicy {
	if c.Letters == "" {
		return LettersUnreachable
	}
	return c.Letters
}

// validateLetters checks the letter policy and the organisation's postal address.
func (c *Campaign) validateLetters(v *ValidationError) {
	if c.Letters != "" && !slices.Contains(LetterPolicies, c.Letters) {
		v.Add("letter_policy", "unknown letter policy %q (known: none, unreachable, fallback, all)", c.Letters)
	}
	if len(c.Organization.PostalAddress) > 5 {
		v.Add("organization.postal_address", "has %d lines; a return address has at most 5", len(c.Organization.PostalAddress))
	}
	for _, l := range c.Organization.PostalAddress {
		if len([]rune(l)) > MaxAddressLine {
			v.Add("organization.postal_address", "a line is longer than %d characters", MaxAddressLine)
			break
		}
	}
}

// LetterRecord is one letter of a letters run: what the print vendor's manifest lists.
type LetterRecord struct {
	CustomerID string
	Reference  string
	// Address is the address block as printed, name first.
	Address []string
	Pages   int
	// File is the PDF's name within the run's output.
	File string
}

// LettersReport is what a letters run did.
type LettersReport struct {
	CampaignID string `json:"campaign_id"`
	// Letters is how many PDFs were written; Printed how many deliveries were new (moved to
	// printed by this run); the rest had been printed by an earlier run and were written again.
	Letters int64 `json:"letters"`
	Printed int64 `json:"printed"`
	Pages   int64 `json:"pages"`
	// Held are the letters owed that could not be printed as written (a script the letter's
	// typefaces lack, an address line too long for the window): not written, not recorded
	// printed — they stay pending, counted as not reached — and listed in the run's held.csv
	// with why, for the team to send another way.
	Held []HeldLetter `json:"held"`
}

// HeldLetter is a letter a run could not print, and why (no personal data in Reason).
type HeldLetter struct {
	CustomerID string `json:"customer_id"`
	Reason     string `json:"reason"`
}

// LetterMark is one line of a returned-mail file or a mailed list: a customer by ID or by
// reference, and why the letter came back.
type LetterMark struct {
	Line       int64
	CustomerID string
	Reference  string
	Reason     string
}

// LetterMarkReport says what marking letters mailed or returned did: how many moved, and the
// lines that named no letter in a state that could move, with why.
type LetterMarkReport struct {
	CampaignID string        `json:"campaign_id"`
	State      DeliveryState `json:"state"`
	Moved      int64         `json:"moved"`
	Unchanged  int64         `json:"unchanged"`
	Rejects    []Reject      `json:"rejects"`
	At         time.Time     `json:"at"`
}

// LetterDue is a recipient owed a letter, and the state of their letter ("" when they have
// none yet).
type LetterDue struct {
	Recipient *Recipient
	State     DeliveryState
}

// LetterMove asks for one customer's letter to move (to mailed or returned), with why.
type LetterMove struct {
	CustomerID string
	Reason     string
}

// LetterMoveResult is what became of a LetterMove: Known says the customer is in the
// campaign, Was is the state their letter was in ("" when they have none), Moved whether it
// moved.
type LetterMoveResult struct {
	CustomerID string
	Known      bool
	Was        DeliveryState
	Moved      bool
}

// CheckLetters says whether campaign c may have letters printed: its notices must have been
// approved (approved, running, paused, or completed — under the fallback policy letters follow
// the email and SMS that failed, often after the campaign completed), and its letter policy
// must not be none.
func CheckLetters(c *Campaign) error {
	switch c.State {
	case CampaignApproved, CampaignRunning, CampaignPaused, CampaignCompleted:
	default:
		return Errorf(ECONFLICT, "the campaign is %s: letters are printed for an approved, running, paused or completed campaign only", c.State)
	}
	if c.Purged() {
		return Errorf(ECONFLICT, "the campaign's personal data has been purged: there is no address left to print")
	}
	if c.LetterPolicy() == LettersNone {
		return Errorf(ECONFLICT, "the campaign's letter_policy is none: it sends no letters")
	}
	return nil
}
