package breach

import "time"

// Verification is the answer to the public check of a reference code (GET /verify): whether a
// notice carrying it was sent, and if so by whom and when. It holds nothing of the customer.
type Verification struct {
	// Genuine is set when a notice with this reference was sent or handed over: an email or SMS
	// sent (then delivered or bounced, or not), a letter printed, mailed or returned.
	Genuine bool
	// Reference is the code as notices print it ("7KQ2-M9XD-3F"); empty when what was given
	// is no reference code at all.
	Reference string
	// Organization is the company that sent it, with its official contacts; SentAt is when the
	// first notice carrying the code was sent. Both only when Genuine.
	Organization Organization
	SentAt       time.Time
}

// SentReference is what storage knows of a notice that carried a reference code: the sender's
// organization and when the first such notice went out.
type SentReference struct {
	Organization Organization
	SentAt       time.Time
}
