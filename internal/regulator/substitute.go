package regulator

import (
	"fmt"
	"maps"
	"math"
	"slices"

	"github.com/breachnotice/breachnotice/internal/breach"
)

// SubstituteNotice says whether substitute notice (email where possible, a conspicuous posting
// on the company's website, statewide media) applies, and why. It is a provision of US state
// laws, so it is weighed for the affected people who live in the US (as the list says where
// they live): a list with none has no substitute notice to give, and a Peruvian whose notice
// bounced is no reason for one.
type SubstituteNotice struct {
	Applies bool `json:"applies"`
	// Scope is for whom it applies: "everyone" (the class or the cost is over the law's
	// figure), "some" (only for the people the company lacks contact information for:
	// everyone else is notified individually), "" when it does not.
	Scope string `json:"scope"`
	// ClassStates are the US states (US-CA) whose own affected residents are more than
	// AffectedThreshold: each state's law weighs the class of its residents to be notified.
	ClassStates []string `json:"class_states"`
	// Reasons say why it applies; Notes what is not known (the cost, failures before sending).
	Reasons []string `json:"reasons"`
	Notes   []string `json:"notes"`
	// Affected counts every affected person; USResidents those who live in the US and
	// UnknownResidence those the list says nothing of where they live, who are weighed as if
	// they lived in the US (the list cannot rule it out): together they are compared with
	// AffectedThreshold ("more than").
	Affected          int64 `json:"affected"`
	USResidents       int64 `json:"us_residents"`
	UnknownResidence  int64 `json:"unknown_residence"`
	AffectedThreshold int64 `json:"affected_threshold"`
	// CostUSD is the estimate given (null when unknown), compared with CostThresholdUSD
	// ("more than").
	CostUSD          *float64 `json:"cost_usd"`
	CostKnown        bool     `json:"cost_known"`
	CostThresholdUSD int64    `json:"cost_threshold_usd"`
	// Unreachable = NoContact + RejectedNoContact + EveryChannelFailed + Suppressed: the US
	// residents (and those of unknown residence) the company cannot notify individually.
	// NoContact have no email address, phone number or postal address; RejectedNoContact are
	// the rows an import rejected for giving none (of unknown residence); EveryChannelFailed
	// had every notice fail, bounce or come back, Suppressed every notice fail, bounce or be
	// suppressed (an opt-out, a suppressed address), and the company holds no postal address
	// of theirs (or their letter came back). The last two are known once sending has started
	// (SendingStarted).
	Unreachable        int64 `json:"unreachable"`
	NoContact          int64 `json:"no_contact"`
	RejectedNoContact  int64 `json:"rejected_no_contact"`
	EveryChannelFailed int64 `json:"every_channel_failed"`
	Suppressed         int64 `json:"suppressed"`
	SendingStarted     bool  `json:"sending_started"`
	// ByPost counts those no notice reached, or who have only a postal address in a campaign
	// that sends no letters, whose postal address the company holds: written notice is the
	// laws' first method, so they are no reason for substitute notice — letters are owed.
	ByPost int64 `json:"by_post"`
	// ConsistsOf is what substitute notice is, by law.
	ConsistsOf []string    `json:"consists_of"`
	Source     string      `json:"source"`
	Reviewed   breach.Date `json:"reviewed"`
	Note       string      `json:"note,omitempty"`
}

// residents is what the substitute-notice rule weighs: counts of the affected US residents.
type residents struct {
	affected, noContact, failed, suppressed, byPost int64
}

// add counts rc's recipients in.
func (r *residents) add(rc breach.ResidenceCount) {
	r.affected += rc.Recipients
	r.noContact += rc.NoContact
	r.failed += rc.Failed
	r.suppressed += rc.Suppressed
	r.byPost += rc.ByPost
}

// plus is r and o counted together.
func (r residents) plus(o residents) residents {
	return residents{affected: r.affected + o.affected, noContact: r.noContact + o.noContact,
		failed: r.failed + o.failed, suppressed: r.suppressed + o.suppressed, byPost: r.byPost + o.byPost}
}

// evaluate applies the substitute-notice rule to the affected count (everyone), the counts of
// the US residents and of those of unknown residence, the rows the imports rejected, whether
// sending has started, whether the campaign sends no letters and the cost estimate (nil when
// unknown).
func (s SubstituteRule) evaluate(affected int64, us, unknown residents, states map[string]int64, rejected breach.RejectedRows, sendingStarted, noLetters bool, costUSD *float64) SubstituteNotice {
	w := us.plus(unknown)
	out := SubstituteNotice{Reasons: []string{}, Notes: []string{}, ClassStates: []string{}, Affected: affected, USResidents: us.affected,
		UnknownResidence: unknown.affected, AffectedThreshold: s.AffectedMoreThan, CostUSD: costUSD, CostKnown: costUSD != nil,
		CostThresholdUSD: s.CostUSDMoreThan, NoContact: w.noContact, RejectedNoContact: rejected.NoContact, EveryChannelFailed: w.failed,
		Suppressed: w.suppressed, ByPost: w.byPost, SendingStarted: sendingStarted, ConsistsOf: s.ConsistsOf, Source: s.Source,
		Reviewed: s.Reviewed, Note: s.Note}
	if w.affected == 0 {
		// The rows rejected for giving no contact say nothing of where their people live: in a
		// list of which no one lives in the US, they are no reason for a US law's notice.
		out.RejectedNoContact = 0
	}
	out.Unreachable = out.NoContact + out.RejectedNoContact + out.EveryChannelFailed + out.Suppressed
	if w.affected == 0 {
		out.Notes = append(out.Notes, "none of the affected people lives in the US (as the list says where they live): substitute notice is a provision of US state laws")
		return out
	}
	where := "in the US"
	if unknown.affected > 0 {
		where = "in the US or where the list does not say"
		out.Notes = append(out.Notes, fmt.Sprintf("%s: the list says nothing of where they live, so they are weighed here as if they lived in the US; complete its country column to know",
			affectedPeople(unknown.affected)))
	}

	// The class is each state's residents to be notified under its law (Massachusetts': "the
	// affected class of Massachusetts residents"): 600,000 people over ten states are no
	// class over 500,000 anywhere. Those the list does not place are a class of their own.
	for _, st := range slices.Sorted(maps.Keys(states)) {
		if n := states[st]; n > s.AffectedMoreThan {
			out.ClassStates = append(out.ClassStates, st)
			out.Reasons = append(out.Reasons, fmt.Sprintf("%s affected people live in %s, more than %s (substitute notice for its residents)", thousands(n), Name(st), thousands(s.AffectedMoreThan)))
		}
	}
	if unknown.affected > s.AffectedMoreThan {
		out.Reasons = append(out.Reasons, fmt.Sprintf("%s affected people live where the list does not say, more than %s", thousands(unknown.affected), thousands(s.AffectedMoreThan)))
	}
	if len(out.Reasons) == 0 && w.affected > s.AffectedMoreThan {
		out.Notes = append(out.Notes, fmt.Sprintf("%s affected people live %s, more than %s together, but no state's residents are: each state's law weighs the class of its own residents",
			thousands(w.affected), where, thousands(s.AffectedMoreThan)))
	}
	switch {
	case costUSD == nil:
		out.Notes = append(out.Notes, fmt.Sprintf("the cost of notifying everyone individually is unknown: give an estimate (--cost-usd, cost_usd) to compare it with $%s", thousands(s.CostUSDMoreThan)))
	case *costUSD > float64(s.CostUSDMoreThan):
		out.Reasons = append(out.Reasons, fmt.Sprintf("individual notice would cost $%s by the estimate given, more than $%s", dollars(*costUSD), thousands(s.CostUSDMoreThan)))
	}
	everyone := len(out.Reasons) > 0
	if out.Unreachable > 0 {
		reason := fmt.Sprintf("the company does not have sufficient contact information for %s %s (substitute notice for them)",
			thousands(out.Unreachable), plural(out.Unreachable, "affected person", "affected people")+" living "+where)
		var parts []string
		if out.NoContact > 0 {
			parts = append(parts, thousands(out.NoContact)+" with no email address, phone number or postal address")
		}
		if out.RejectedNoContact > 0 {
			parts = append(parts, thousands(out.RejectedNoContact)+" on list rows rejected at import for giving none (where they live is not known)")
		}
		if out.EveryChannelFailed > 0 {
			parts = append(parts, thousands(out.EveryChannelFailed)+" whose every notice failed, bounced or came back")
		}
		if out.Suppressed > 0 {
			parts = append(parts, thousands(out.Suppressed)+" whose addresses are suppressed (opted out, or bounced before) and no other notice reached")
		}
		out.Reasons = append(out.Reasons, reason+": "+joinAnd(parts))
	}
	if out.ByPost > 0 {
		why := "every notice of theirs failed and no letter was tried"
		if noLetters {
			why = "every notice of theirs failed, or they have only a postal address, and the campaign sends no letters (letter_policy none)"
		}
		out.Notes = append(out.Notes, fmt.Sprintf("%s living %s: %s, but the company holds their postal address. Written notice by post is the laws' first method, so they are no reason for substitute notice: send them letters (breachnotice letters).",
			affectedPeople(out.ByPost), where, why))
	}
	if n := rejected.Contact; n > 0 {
		out.Notes = append(out.Notes, fmt.Sprintf("%s %s rejected at import for an email address, phone number or postal address that did not read: if the company has no other way to reach those people, they count toward substitute notice too.",
			thousands(n), plural(n, "row was", "rows were")))
	}
	if !out.SendingStarted {
		out.Notes = append(out.Notes, "sending has not started: the customers every channel fails for are not known yet")
	}
	out.Applies = len(out.Reasons) > 0
	switch {
	case everyone:
		out.Scope = "everyone"
	case out.Applies:
		out.Scope = "some"
	}
	return out
}

// dollars writes a positive amount of dollars with commas between thousands, and its cents
// when it has any, rounded up: an estimate of $250,000.001 is more than $250,000 and must not
// read as $250,000.
func dollars(usd float64) string {
	cents := int64(math.Ceil(usd * 100))
	if cents%100 == 0 {
		return thousands(cents / 100)
	}
	return fmt.Sprintf("%s.%02d", thousands(cents/100), cents%100)
}

func joinAnd(parts []string) string {
	switch len(parts) {
	case 0:
		return ""
	case 1:
		return parts[0]
	}
	s := parts[0]
	for _, p := range parts[1 : len(parts)-1] {
		s += ", " + p
	}
	return s + " and " + parts[len(parts)-1]
}
