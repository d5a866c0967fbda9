package email

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// Relay is one SMTP relay of SMTP_URLS: how to reach it, its share of the messages, and its
// own rate limit.
type Relay struct {
	Config
	// Name is host:port: how counts, logs and the console name the relay, never with its
	// credentials.
	Name string
	// Weight is the relay's share of the messages against the other relays' weights (at least
	// 1; default 1).
	Weight int
	// Rate is the most messages per second the relay takes across every worker (0: no limit
	// of its own; EMAIL_RATE still applies to all relays together).
	Rate int
}

// ParseRelays parses SMTP_URLS: comma-separated SMTP URLs, each as SMTP_URL (see ParseURL)
// with two more optional query parameters, weight and rate:
//
//	smtp://u:p@relay1:587?weight=3&rate=100, smtps://relay2:465?weight=1
//
// Commas separate the relays, so a comma in a user name or password must be percent-encoded
// (%2C), like '@' and ':' already must be. Two relays cannot share a host and port: they are
// told apart by it. Errors name the relay by position and, once known, by host:port, and
// never repeat a password.
func ParseRelays(raw string) ([]Relay, error) {
	parts := strings.Split(raw, ",")
	// Every part must at least look like a URL before any is parsed: an unencoded comma in a
	// password splits one URL in two, and the error must point at the comma rather than at
	// the mangled first half.
	for i, part := range parts {
		part = strings.TrimSpace(part)
		if part == "" {
			return nil, fmt.Errorf("SMTP_URLS relay %d is empty (a stray comma? a comma in a password must be written %%2C)", i+1)
		}
		if !strings.Contains(part, "://") {
			return nil, fmt.Errorf("SMTP_URLS relay %d needs a scheme: smtp:// or smtps:// (a comma in a password must be written %%2C)", i+1)
		}
	}
	var relays []Relay
	seen := map[string]int{}
	for i, part := range parts {
		n := i + 1
		r, err := parseRelay(n, strings.TrimSpace(part))
		if err != nil {
			return nil, err
		}
		if first, ok := seen[r.Name]; ok {
			return nil, fmt.Errorf("SMTP_URLS relay %d (%s) has the same host and port as relay %d", n, r.Name, first)
		}
		seen[r.Name] = n
		relays = append(relays, r)
	}
	return relays, nil
}

// parseRelay parses relay n of SMTP_URLS.
func parseRelay(n int, raw string) (Relay, error) {
	label := fmt.Sprintf("SMTP_URLS relay %d", n)
	u, err := url.Parse(raw)
	if err != nil {
		return Relay{}, fmt.Errorf("%s is not a valid URL (percent-encode special characters in the user name and password)", label)
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return Relay{}, fmt.Errorf("%s has a malformed query string", label)
	}
	r := Relay{Weight: 1}
	for key, values := range q {
		switch key {
		case "weight", "rate":
			v, err := strconv.Atoi(values[len(values)-1])
			if err != nil || v < 0 || key == "weight" && v < 1 {
				return Relay{}, fmt.Errorf("%s (%s): %s=%q is not a positive whole number", label, u.Host, key, values[len(values)-1])
			}
			if key == "weight" {
				r.Weight = v
			} else {
				r.Rate = v
			}
			q.Del(key)
		case "tls", "timeout":
		default:
			return Relay{}, fmt.Errorf("%s (%s): parameter %q is not known (known: tls, timeout, weight, rate)", label, u.Host, key)
		}
	}
	u.RawQuery = q.Encode()
	if r.Config, err = parseURL(label, u.String()); err != nil {
		return Relay{}, err
	}
	r.Name = net.JoinHostPort(r.Host, strconv.Itoa(r.Port))
	return r, nil
}
