package breach

// ResidenceCount is how many of a campaign's recipients share what the customer list says of
// where they live — the counts a regulator report is made of. It holds no personal data: a
// country, a jurisdiction, a US state as written and three digits of a ZIP code, each shared
// by everyone counted.
type ResidenceCount struct {
	// Country is the recipients' ISO 3166-1 country, "" when the list gives none.
	Country string `json:"country"`
	// Jurisdiction is their jurisdiction override ("us-ma", "gdpr"), "" when none.
	Jurisdiction string `json:"jurisdiction"`
	// Region is a US state as the list gives it (the `state` column, kept by the importer
	// beside the jurisdiction it makes; `region`; the postal address's), for recipients in the
	// US or of no country; "" otherwise.
	Region string `json:"region"`
	// PostalCode is the first three digits of a US (or no-country) recipient's ZIP code
	// (`postal_code`, `zip`…), which name a state when the region does not; "" otherwise.
	PostalCode string `json:"postal_code"`
	// Recipients counts them; NoContact those of them (not purged) the campaign has no way to
	// reach: neither an email address nor a phone number, nor a postal address when the
	// campaign sends letters — with letter_policy none, a customer the list gives only an
	// address for is told nothing individually.
	Recipients int64 `json:"recipients"`
	NoContact  int64 `json:"no_contact"`
	// Exposed is every category exposed about one of them at least.
	Exposed Categories `json:"exposed"`
	// Once sending has begun (and only when asked for), those of them no notice reached: every
	// delivery of theirs ended failed, bounced or returned (Failed), or ended so with one
	// suppressed at least (Suppressed: an opt-out or a suppressed address). A recipient with a
	// delivery still queued or sending, or none yet, is not counted.
	Failed     int64 `json:"failed"`
	Suppressed int64 `json:"suppressed"`
}
