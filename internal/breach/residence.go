package breach

import "strings"

// ResidenceCount is how many of a campaign's recipients share what the customer list says of
// where they live — the counts a regulator report is made of. It holds no personal data: a
// country, a jurisdiction, a US state as written and three digits of a ZIP code, each shared
// by everyone counted.
type ResidenceCount struct {
	// Country is the recipients' ISO 3166-1 country, "" when the list gives none.
	Country string `json:"country"`
	// Jurisdiction is their jurisdiction override ("us-ma", "gdpr"), "" when none.
	Jurisdiction string `json:"jurisdiction"`
	// Region is what the list says of a US state (the `state` column, kept by the importer
	// beside the jurisdiction it makes; `region`; the postal address's), for recipients in the
	// US or of no country, each value given in that order, separated by RegionSeparator (see
	// Regions); "" otherwise.
	Region string `json:"region"`
	// PostalCode is the first three digits of a US (or no-country) recipient's ZIP code
	// (`postal_code`, `zip`…), which name a state when the region does not — five for the
	// prefixes several territories share (967, 969); "" otherwise.
	PostalCode string `json:"postal_code"`
	// Recipients counts them; NoContact those of them (not purged) the company has no way to
	// reach: neither an email address, a phone number nor a postal address.
	Recipients int64 `json:"recipients"`
	NoContact  int64 `json:"no_contact"`
	// ByPost counts those the company can write to and no notice reached: a postal address
	// held, and either every notice of theirs failed with no letter tried, or, in a campaign
	// that sends no letters, no email address or phone number. Written notice by post is the
	// US laws' first method: they are no reason for substitute notice, but letters are owed.
	ByPost int64 `json:"by_post"`
	// SamePerson counts those who are another customer_id's person: the approval found them
	// under the same name at the same address and merged their notices into one.
	SamePerson int64 `json:"same_person"`
	// Exposed is every category exposed about one of them at least.
	Exposed Categories `json:"exposed"`
	// Once sending has begun (and only when asked for), those of them no notice reached: every
	// delivery of theirs ended failed, bounced or returned (Failed), or ended so with one
	// suppressed at least (Suppressed: an opt-out or a suppressed address), and the company
	// holds no postal address of theirs or their letter came back too (else ByPost). A
	// recipient with a delivery still queued or sending, or none yet, is not counted.
	Failed     int64 `json:"failed"`
	Suppressed int64 `json:"suppressed"`
}

// NoContactReason is the import's reason for rejecting a row that gives no way at all to reach
// the customer: the regulator report counts such rows among the people the company lacks
// contact information for.
const NoContactReason = "the customer has neither an email address, a phone number nor a postal address"

// RejectedRows counts the rows of a campaign's lists that its imports rejected and that name no
// customer on its list now (a row fixed and imported again is not counted), each customer_id
// once: the people behind them are affected too, and counted nowhere else. NoContact counts
// those rejected for giving no way at all to reach the customer (NoContactReason), Contact
// those rejected for a contact field (email, phone, an address's) that did not read.
type RejectedRows struct {
	Rows      int64 `json:"rows"`
	NoContact int64 `json:"no_contact"`
	Contact   int64 `json:"contact"`
}

// RegionSeparator separates the values of ResidenceCount.Region.
const RegionSeparator = "\x1f"

// Regions are the values of ResidenceCount.Region, in the order the list's columns give them.
func (rc ResidenceCount) Regions() []string {
	if rc.Region == "" {
		return nil
	}
	return strings.Split(rc.Region, RegionSeparator)
}
