package sms

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"net/url"
	"slices"
	"strings"
)

// ValidSignature verifies Twilio's X-Twilio-Signature: base64(HMAC-SHA1(authToken, fullURL +
// the POST parameters sorted by name, each name followed by its value)), compared in constant
// time. fullURL is the URL Twilio was told to call, query string included, as Twilio saw it:
// behind a proxy, build it from PUBLIC_URL, not from the request's Host.
//
// A parameter sent more than once contributes each distinct value in sorted order, as Twilio's
// own helper libraries do. Because Twilio signs the URL as configured, with or without an
// explicit default port (":443"), both forms are accepted, as the helper libraries also do.
func ValidSignature(authToken, fullURL string, params url.Values, signature string) bool {
	if authToken == "" || signature == "" {
		return false
	}
	ok := false
	for _, u := range urlForms(fullURL) {
		// No early exit, so the time taken does not depend on which form matched.
		if hmac.Equal([]byte(expectedSignature(authToken, u, params)), []byte(signature)) {
			ok = true
		}
	}
	return ok
}

func expectedSignature(authToken, fullURL string, params url.Values) string {
	var b strings.Builder
	b.WriteString(fullURL)
	names := make([]string, 0, len(params))
	for name := range params {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		values := slices.Compact(slices.Sorted(slices.Values(params[name])))
		for _, v := range values {
			b.WriteString(name)
			b.WriteString(v)
		}
	}
	mac := hmac.New(sha1.New, []byte(authToken))
	mac.Write([]byte(b.String()))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// urlForms returns fullURL and, when it has a scheme's default port or none, the other
// spelling (https://h/x ↔ https://h:443/x).
func urlForms(fullURL string) []string {
	u, err := url.Parse(fullURL)
	if err != nil || u.Host == "" {
		return []string{fullURL}
	}
	var port string
	switch u.Scheme {
	case "https":
		port = "443"
	case "http":
		port = "80"
	default:
		return []string{fullURL}
	}
	// Rewrite only the host of the original string: re-encoding the URL could change its
	// escaping, and with it the signature.
	prefix := u.Scheme + "://" + u.Host
	if !strings.HasPrefix(fullURL, prefix) { // user info, or an unusual spelling
		return []string{fullURL}
	}
	var host string
	switch u.Port() {
	case "":
		host = u.Host + ":" + port
	case port:
		host = strings.TrimSuffix(u.Host, ":"+port)
	default:
		return []string{fullURL}
	}
	return []string{fullURL, u.Scheme + "://" + host + fullURL[len(prefix):]}
}
