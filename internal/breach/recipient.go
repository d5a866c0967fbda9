package breach

import "time"

// Recipient is one affected customer of a campaign, as imported from the customer list. A
// customer appears once per campaign (keyed by CustomerID) however many rows named them.
type Recipient struct {
	ID         int64  `json:"id"`
	CampaignID string `json:"campaign_id"`
	CustomerID string `json:"customer_id"`
	// Email is normalized (see ParseEmail); empty when the customer has none.
	Email string `json:"email,omitempty"`
	// Phone is in E.164 form ("+51987654321"); empty when the customer has none.
	Phone string `json:"phone,omitempty"`
	Name  string `json:"name,omitempty"`
	// Locale is the customer's BCP 47 tag as given (the notice's locale is negotiated later
	// against the campaign's offered locales).
	Locale  string `json:"locale,omitempty"`
	Country string `json:"country,omitempty"`
	// Jurisdiction overrides the campaign's jurisdictions for this customer ("us-ma").
	Jurisdiction string `json:"jurisdiction,omitempty"`
	// Exposed is what was exposed about this customer: the list's categories, or the
	// campaign's default ones when the list named none.
	Exposed Categories `json:"exposed"`
	// Postal is the customer's postal address; zero when the list gives none.
	Postal PostalAddress `json:"postal,omitzero"`
	// Attributes are the list's other columns, usable in templates.
	Attributes map[string]string `json:"attributes,omitempty"`
	// EnrolmentCode is the code the campaign's pool assigned to the customer (see CodePool);
	// empty when the pool gave none (none imported, or the list gives the customer a code).
	EnrolmentCode string    `json:"enrolment_code,omitempty"`
	UpdatedAt     time.Time `json:"updated_at"`
	// Purged is set once the campaign's personal data has been purged: Email, Phone, Name and
	// Attributes are empty, and EmailProof and PhoneProof (hex) are the keyed hashes of the
	// addresses the customer had, the proof that they were notified there.
	Purged     bool   `json:"purged,omitempty"`
	EmailProof string `json:"email_proof,omitempty"`
	PhoneProof string `json:"phone_proof,omitempty"`
	// EmailToldWith and PhoneToldWith name the customer_id whose notice at the same email
	// address or phone number tells this customer too — the same person under another
	// customer_id — naming what was exposed under both (decided when the campaign is
	// approved). Empty: the customer's own notice. LetterToldWith is the same of letters: the
	// customer_id whose letter to the same postal address tells this customer too.
	EmailToldWith  string `json:"email_told_with,omitempty"`
	PhoneToldWith  string `json:"phone_told_with,omitempty"`
	LetterToldWith string `json:"letter_told_with,omitempty"`
}
