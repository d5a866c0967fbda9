package email

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// TLSMode is how the connection to the relay is protected.
type TLSMode string

const (
	// TLSStartTLS upgrades a plain connection with STARTTLS and refuses to continue if the
	// server does not offer it: credentials and customers' data never cross the network in
	// clear because a man in the middle stripped the STARTTLS capability.
	TLSStartTLS TLSMode = "starttls"
	// TLSImplicit speaks TLS from the first byte (smtps, usually port 465).
	TLSImplicit TLSMode = "tls"
	// TLSNone sends in clear. Only for a sink on the same machine (tests, a local relay).
	TLSNone TLSMode = "none"
)

// Default ports: submission with STARTTLS (RFC 6409) and submission over implicit TLS
// (RFC 8314).
const (
	defaultSubmissionPort = 587
	defaultSMTPSPort      = 465
)

// DefaultTimeout bounds dialling and each SMTP transaction when SMTP_URL does not say
// otherwise. A relay that stops answering must not hold a worker for minutes: the delivery is
// retried later instead.
const DefaultTimeout = 30 * time.Second

// Config is how to reach the SMTP relay, parsed from SMTP_URL.
type Config struct {
	Host     string
	Port     int
	Username string
	Password string
	TLS      TLSMode
	// Timeout bounds dialling (including the greeting, TLS and AUTH) and each message's
	// transaction on an open connection.
	Timeout time.Duration
}

// String describes the configuration without its password, so that printing a Config by
// mistake does not leak the relay's credentials.
func (c Config) String() string {
	user := ""
	if c.Username != "" {
		user = c.Username + ":xxxxx@"
	}
	return fmt.Sprintf("smtp %s%s:%d tls=%s timeout=%s", user, c.Host, c.Port, c.TLS, c.Timeout)
}

// ParseURL parses SMTP_URL:
//
//	smtp://user:pass@host:587?tls=starttls   STARTTLS, required (the default for smtp://)
//	smtp://host:1025?tls=none                 no TLS, for a local sink
//	smtps://user:pass@host:465                implicit TLS
//
// The port defaults to 587 for smtp and 465 for smtps; a `timeout` parameter (a Go duration
// such as 10s) overrides DefaultTimeout. User and password are percent-decoded, so a password
// containing '@' or ':' must be written %40 or %3A. Errors name SMTP_URL and never repeat the
// password (nor the URL, which holds it).
func ParseURL(raw string) (Config, error) {
	return parseURL("SMTP_URL", raw)
}

// parseURL is ParseURL with label naming the URL in errors ("SMTP_URL", or one relay of
// SMTP_URLS).
func parseURL(label, raw string) (Config, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		// url.Parse's error quotes the whole URL, password included: say what is wrong
		// without it.
		return Config{}, errors.New(label + " is not a valid URL (percent-encode special characters in the user name and password)")
	}

	cfg := Config{Timeout: DefaultTimeout}
	switch u.Scheme {
	case "smtp":
		cfg.TLS, cfg.Port = TLSStartTLS, defaultSubmissionPort
	case "smtps":
		cfg.TLS, cfg.Port = TLSImplicit, defaultSMTPSPort
	case "":
		return Config{}, errors.New(label + " needs a scheme: smtp:// or smtps://")
	default:
		return Config{}, fmt.Errorf("%s scheme %q is not supported: use smtp:// or smtps://", label, u.Scheme)
	}

	cfg.Host = u.Hostname()
	if cfg.Host == "" {
		return Config{}, errors.New(label + " has no host")
	}
	if p := u.Port(); p != "" {
		port, err := strconv.Atoi(p)
		if err != nil || port < 1 || port > 65535 {
			return Config{}, fmt.Errorf("%s port %q is not a port number", label, p)
		}
		cfg.Port = port
	}

	if u.User != nil {
		cfg.Username = u.User.Username()
		cfg.Password, _ = u.User.Password()
		if cfg.Username == "" && cfg.Password != "" {
			return Config{}, errors.New(label + " has a password but no user name")
		}
	}

	if err := parseQuery(label, u, &cfg); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// parseQuery applies SMTP_URL's parameters. Unknown ones are refused rather than ignored: a
// misspelt "tls=nnone" must not silently mean something else.
func parseQuery(label string, u *url.URL, cfg *Config) error {
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return errors.New(label + " has a malformed query string")
	}
	for key, values := range q {
		value := values[len(values)-1]
		switch key {
		case "tls":
			mode := TLSMode(strings.ToLower(value))
			switch {
			case mode != TLSStartTLS && mode != TLSImplicit && mode != TLSNone:
				return fmt.Errorf("%s tls=%q is not one of starttls, tls, none", label, value)
			case u.Scheme == "smtps" && mode != TLSImplicit:
				return fmt.Errorf("%s: smtps:// always uses TLS; tls=%s contradicts it", label, mode)
			}
			cfg.TLS = mode
		case "timeout":
			d, err := time.ParseDuration(value)
			if err != nil || d <= 0 {
				return fmt.Errorf("%s timeout=%q is not a positive duration such as 10s", label, value)
			}
			cfg.Timeout = d
		default:
			return fmt.Errorf("%s parameter %q is not known (known: tls, timeout)", label, key)
		}
	}
	return nil
}
