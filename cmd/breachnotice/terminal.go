package main

import "github.com/breachnotice/breachnotice/internal/plaintext"

// shown is stored text as the command line prints it: every control character — which a
// terminal would act on rather than show (an escape sequence that recolours the screen, sets
// the title or writes the clipboard) — is replaced by U+FFFD. A delivery's error is the text of
// whatever server refused the notice, one the customer may run; names and addresses went
// through the import's checks, but are printed the same way.
func shown(s string) string { return plaintext.ReplaceControls(s, '\uFFFD') }
