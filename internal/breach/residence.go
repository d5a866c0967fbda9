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
	// Region is a US state as the list's other columns give it (`state` as a name, `region`),
	// for recipients in the US or of no country and without a us-* jurisdiction; "" otherwise.
	Region string `json:"region"`
	// PostalCode is the first three characters of a US recipient's ZIP code (`postal_code`,
	// `zip`…), when nothing else says their state; "" otherwise.
	PostalCode string `json:"postal_code"`
	// Recipients counts them; NoContact those of them with neither an email address nor a
	// phone number left (not purged).
	Recipients int64 `json:"recipients"`
	NoContact  int64 `json:"no_contact"`
	// Exposed is every category exposed about one of them at least.
	Exposed Categories `json:"exposed"`
}

// ReachCounts counts the recipients of a campaign that no notice reached, once sending has
// begun: every delivery of theirs ended failed or bounced (Failed), or ended failed, bounced or
// suppressed with one suppressed at least (Suppressed: an opt-out or a suppressed address).
// Recipients counts those with a delivery at all; a recipient with a delivery still queued or
// sending is not counted as unreached.
type ReachCounts struct {
	Recipients int64 `json:"recipients"`
	Failed     int64 `json:"failed"`
	Suppressed int64 `json:"suppressed"`
}
