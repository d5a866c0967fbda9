package notice

import (
	"errors"

	"github.com/breachnotice/breachnotice/internal/breach"
)

// Letter is a customer's notice as a postal letter shows it: the same content as the email
// (the jurisdiction's title and headings, the customer's exposed data with its guidance, the
// reference code, the offer and enrolment code, contacts) as plain text blocks, in the
// customer's language. Package letter lays it out.
type Letter struct {
	Locale string
	// Title is the jurisdiction's title ("Notice of Data Breach").
	Title string
	// Greeting opens the letter ("Dear Ana Quispe,").
	Greeting string
	// Sections are the body, in order.
	Sections []LetterSection
	// Reference is the customer's reference code and VerifyURL where it can be checked.
	Reference, VerifyURL string
	// Closing ends the letter (sign-off and the organisation's name).
	Closing []string
}

// LetterSection is one headed part of a letter.
type LetterSection struct {
	Heading    string
	Paragraphs []string
	// Items are bullet points (an exposed category and its guidance, a contact).
	Items []LetterItem
}

// LetterItem is one bullet: a bold lead ("Payment card") and its text.
type LetterItem struct {
	Lead string
	Text []string
}

// Letter renders recipient r's notice in campaign c as a letter.
func (rd *Renderer) Letter(c *breach.Campaign, r *breach.Recipient) (*Letter, error) {
	return nil, errors.New("notice: letters are not built yet")
}
