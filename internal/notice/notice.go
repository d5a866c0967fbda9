// Package notice renders what each customer reads: the email (subject, HTML, plain text) and
// the SMS, in their language, with the guidance for the data exposed about them, shaped by
// their jurisdiction — and lints every variant before a campaign may be approved.
//
// Templates come from the repository's templates/ directory, embedded in the binary; a
// directory with the same layout overrides any file of it, so a company can adjust the wording
// without a rebuild. Customer data is always data: HTML is produced by html/template, and
// customer fields are values inside the wording's templates, never template source.
package notice

import (
	"github.com/breachnotice/breachnotice/internal/gsm"
)

// Notice is one customer's rendered notice.
type Notice struct {
	Locale       string `json:"locale"`
	LocaleReason string `json:"locale_reason"`
	Jurisdiction string `json:"jurisdiction"`
	Subject      string `json:"subject"`
	HTML         string `json:"html"`
	Text         string `json:"text"`
	SMS          SMS    `json:"sms"`
	// Reference is the code the customer can check on the official site to know the notice is
	// genuine.
	Reference string    `json:"reference"`
	Lint      []Finding `json:"lint"`
	// Sample says which sample customer a reviewer's sample notice is for, when a campaign's
	// samples differ by more than locale and law: SampleWithCode or SampleNoCode.
	Sample string `json:"sample,omitempty"`

	// What lint checks the notice against: its profile, the sections its customer's data
	// calls for beyond the profile's, and California's title and headings in order.
	profile  Profile
	required []string
	headings []string
}

// The sample customers of a campaign whose offer gives enrolment codes (Notice.Sample).
const (
	SampleWithCode = "with an enrolment code"
	SampleNoCode   = "without an enrolment code"
)

// SMS is the text message and what it costs to send.
type SMS struct {
	Body     string       `json:"body"`
	Encoding gsm.Encoding `json:"encoding"`
	Units    int          `json:"units"`
	Segments int          `json:"segments"`
}

// Channel is a way of reaching a customer.
type Channel string

const (
	Email Channel = "email"
	Text  Channel = "sms"
)
