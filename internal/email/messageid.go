package email

import "strings"

// MessageIDFor returns the Message-ID "<local@domain>" for a message sent from the address
// from: local is the caller's (the sending engine puts a delivery's signed report token there,
// so that bounce and complaint reports, which quote the Message-ID, name the delivery), the
// domain is the sender's own, as RFC 5322 §3.6.4 recommends. local must be atext (letters,
// digits, '-', '_' …); Build rejects the message otherwise.
func MessageIDFor(local, from string) string {
	return "<" + local + "@" + from[strings.LastIndexByte(from, '@')+1:] + ">"
}

// MessageIDLocal returns the left part of a Message-ID, given with or without its angle
// brackets (relays and notification formats differ) and surrounding spaces, or false when id
// is not of the form local@domain.
func MessageIDLocal(id string) (string, bool) {
	id = strings.TrimSpace(id)
	if inner, ok := strings.CutPrefix(id, "<"); ok {
		if id, ok = strings.CutSuffix(inner, ">"); !ok {
			return "", false
		}
	}
	local, domain, ok := strings.Cut(id, "@")
	if !ok || local == "" || domain == "" || strings.Contains(domain, "@") {
		return "", false
	}
	return local, true
}
