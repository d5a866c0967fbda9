// Package letter writes print-ready PDF letters: one customer's notice, laid out for a window
// envelope on the paper of the customer's country.
//
// This file fixes the contract between the letters operation (package operation) and the PDF
// writer; the writer itself is being built (issue 12) and this placeholder only lets the
// callers compile.
package letter

import (
	"errors"
	"io"

	"github.com/breachnotice/breachnotice/internal/notice"
)

// Paper is a sheet size.
type Paper string

const (
	A4       Paper = "A4"
	USLetter Paper = "Letter"
)

// PaperFor is the paper letters to country (ISO 3166-1 alpha-2) are printed on: US Letter in
// North America and the countries that use it, A4 elsewhere.
func PaperFor(country string) Paper {
	switch country {
	case "US", "CA", "MX", "PH", "CL", "CO", "VE", "GT", "CR", "PA", "DO", "PR", "SV", "NI":
		return USLetter
	}
	return A4
}

// Letter is one customer's letter, its text already in the customer's language.
type Letter struct {
	Paper Paper
	// From is the sender's return address, one line each (the organisation).
	From []string
	// To is the recipient's address block as the post of their country wants it printed,
	// one line each, name first.
	To []string
	// Content is the notice: title, headings, exposed data with guidance, reference, offer,
	// contacts (notice.Renderer.Letter).
	Content *notice.Letter
}

// Write writes l as a PDF to w and returns its number of pages.
func Write(w io.Writer, l *Letter) (pages int, err error) {
	return 0, errors.New("letter: the PDF writer is not built yet")
}
