package main

import (
	"strings"
	"unicode"
)

// shown is stored text as the command line prints it: every control character — which a
// terminal would act on rather than show (an escape sequence that recolours the screen, sets
// the title or writes the clipboard) — is replaced by U+FFFD. A delivery's error is the text of
// whatever server refused the notice, one the customer may run; names and addresses went
// through the import's checks, but are printed the same way.
func shown(s string) string {
	if !strings.ContainsFunc(s, unicode.IsControl) {
		return s
	}
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return '\uFFFD'
		}
		return r
	}, s)
}
