package breach

// PostalAddress is where a letter reaches a customer, as the list gives it (columns
// address_line1…address_line3, city, region, postal_code, country). Country is ISO 3166-1
// alpha-2; it is the recipient's country unless the list gives the address its own.
type PostalAddress struct {
	Line1      string `json:"line1,omitempty"`
	Line2      string `json:"line2,omitempty"`
	Line3      string `json:"line3,omitempty"`
	City       string `json:"city,omitempty"`
	Region     string `json:"region,omitempty"`
	PostalCode string `json:"postal_code,omitempty"`
	Country    string `json:"country,omitempty"`
}

// IsZero reports whether the list gave no postal address.
func (a PostalAddress) IsZero() bool { return a == PostalAddress{} }
