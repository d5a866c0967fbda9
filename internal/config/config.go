// Package config reads breachnotice's configuration from the environment (see the README's
// table). Every malformed value is reported with the variable's name.
package config

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"

	"github.com/breachnotice/breachnotice/internal/redisconn"
)

// Config is the process configuration. Fields are set from environment variables; flags may
// override them in cmd/breachnotice.
type Config struct {
	DatabaseURL string // DATABASE_URL
	RedisURL    string // REDIS_URL
	HTTPAddr    string // HTTP_ADDR
	// MetricsAddr (METRICS_ADDR, e.g. 127.0.0.1:9090) is where /metrics is served, on a
	// listener of its own so that it is never public by accident with the console; unset: off.
	MetricsAddr string
	PublicURL   string // PUBLIC_URL
	Secret      string // BREACHNOTICE_SECRET
	// TemplatesDir overrides the embedded notice templates file by file (TEMPLATES_DIR).
	TemplatesDir string

	// Sending. SMTPURL unset: email is captured in OutboxDir (as SMS are without Twilio's
	// variables, which package sms checks: sms.NewProvider).
	// SMTPURLs is several relays instead (comma-separated SMTP URLs with optional weight= and
	// rate=: email.ParseRelays); SMTP_URL and SMTP_URLS exclude each other.
	SMTPURL                           string // SMTP_URL
	SMTPURLs                          string // SMTP_URLS
	DKIMDomain, DKIMSelector, DKIMKey string // DKIM_DOMAIN, DKIM_SELECTOR, DKIM_KEY_FILE
	// DKIMEd25519Selector and DKIMEd25519Key (DKIM_ED25519_SELECTOR, DKIM_ED25519_KEY_FILE) add
	// an ed25519 signature beside the RSA one of DKIM_KEY_FILE (RFC 8463).
	DKIMEd25519Selector, DKIMEd25519Key string
	OutboxDir                           string // OUTBOX_DIR
	// EmailRate and SMSRate are messages per second across all workers (0: unlimited);
	// DomainRates limits email per recipient domain (EMAIL_DOMAIN_RATES=gmail.com=100,…).
	EmailRate, SMSRate int
	DomainRates        map[string]int
	// WorkerConcurrency is how many tasks a worker runs at once (WORKER_CONCURRENCY);
	// SMTPConnections how many SMTP connections it keeps open (SMTP_CONNECTIONS).
	WorkerConcurrency int
	SMTPConnections   int

	// PauseAfterFailures (PAUSE_AFTER_FAILURES, default 25; 0: never) is how many notices of a
	// campaign's channel in a row a relay or provider may refuse for good, none sent, before
	// the worker pauses the campaign (dispatch.DefaultFailureStreak).
	PauseAfterFailures int

	// UploadMinRate (UPLOAD_MIN_RATE, KiB per second, default 32; 0: none) is the least
	// average rate of an upload once its first minute of waiting is spent (api.Pace): a
	// client that trickles its list is cut off instead of holding an import slot and its
	// campaign.
	UploadMinRate int

	// HTTPMaxConnections (HTTP_MAX_CONNECTIONS, default 4096; 0: none) and
	// HTTPMaxConnectionsPerClient (HTTP_MAX_CONNECTIONS_PER_CLIENT, default 1024; 0: none)
	// bound the connections serve holds open, in all and from one client (an IPv4 address, an
	// IPv6 /64; trusted proxies count toward the first only): past them a connection takes an
	// idle one's place, or is refused (httpserver.Limiter). A carrier's NAT puts thousands of
	// customers checking their notice behind one address: the per-client figure is high.
	HTTPMaxConnections, HTTPMaxConnectionsPerClient int

	// Provider webhooks. TwilioAuthToken (TWILIO_AUTH_TOKEN, also read by package sms to send)
	// verifies Twilio's signatures; WebhookSecret (WEBHOOK_SECRET) the generic email webhook's;
	// SNSTopicARNs (SNS_TOPIC_ARNS, comma-separated), when set, are the only SNS topics whose
	// SES notifications are accepted.
	TwilioAuthToken string
	WebhookSecret   string
	// Twilio's other variables, for sending: TWILIO_ACCOUNT_SID, TWILIO_FROM,
	// TWILIO_MESSAGING_SERVICE_SID, TWILIO_API_URL.
	TwilioAccountSID, TwilioFrom, TwilioMessagingServiceSID, TwilioAPIURL string
	SNSTopicARNs                                                          []string

	// TrustedProxies (TRUSTED_PROXIES, comma-separated CIDRs or addresses) are the
	// TLS-terminating proxies in front of the console: only from them is X-Forwarded-For
	// believed, to tell one client's sign-in failures (and reference-code checks) from
	// another's.
	TrustedProxies []netip.Prefix

	// RequireTwoPerson (REQUIRE_TWO_PERSON=true) makes every campaign need two approvers,
	// whatever its campaign file says.
	RequireTwoPerson bool

	// StateDir (BREACHNOTICE_STATE_DIR, default .local) keeps run's demo secret and outbox;
	// LogLevel (LOG_LEVEL) is debug, info, warn or error.
	StateDir string
	LogLevel string
	// CPUProfile (BREACHNOTICE_CPU_PROFILE) is a file worker, serve or import writes its CPU
	// profile to, for `go tool pprof`; unset: none.
	CPUProfile string
}

// DefaultHTTPAddr is where serve and run listen unless told otherwise: loopback only, so that
// a quick start never exposes customer data to the network.
const DefaultHTTPAddr = "127.0.0.1:8080"

// FromEnv reads the configuration with getenv (os.Getenv in production) and checks each set
// variable's form. Whether a variable is required depends on the command; see Require.
func FromEnv(getenv func(string) string) (Config, error) {
	c := Config{
		DatabaseURL:  strings.TrimSpace(getenv("DATABASE_URL")),
		RedisURL:     strings.TrimSpace(getenv("REDIS_URL")),
		HTTPAddr:     strings.TrimSpace(getenv("HTTP_ADDR")),
		MetricsAddr:  strings.TrimSpace(getenv("METRICS_ADDR")),
		PublicURL:    strings.TrimSpace(getenv("PUBLIC_URL")),
		Secret:       getenv("BREACHNOTICE_SECRET"),
		TemplatesDir: strings.TrimSpace(getenv("TEMPLATES_DIR")),
		SMTPURL:      strings.TrimSpace(getenv("SMTP_URL")),
		SMTPURLs:     strings.TrimSpace(getenv("SMTP_URLS")),
		DKIMDomain:   strings.TrimSpace(getenv("DKIM_DOMAIN")),
		DKIMSelector: strings.TrimSpace(getenv("DKIM_SELECTOR")),
		DKIMKey:      strings.TrimSpace(getenv("DKIM_KEY_FILE")),

		DKIMEd25519Selector: strings.TrimSpace(getenv("DKIM_ED25519_SELECTOR")),
		DKIMEd25519Key:      strings.TrimSpace(getenv("DKIM_ED25519_KEY_FILE")),

		OutboxDir: strings.TrimSpace(getenv("OUTBOX_DIR")),

		TwilioAuthToken: strings.TrimSpace(getenv("TWILIO_AUTH_TOKEN")),
		WebhookSecret:   getenv("WEBHOOK_SECRET"),

		TwilioAccountSID:          strings.TrimSpace(getenv("TWILIO_ACCOUNT_SID")),
		TwilioFrom:                strings.TrimSpace(getenv("TWILIO_FROM")),
		TwilioMessagingServiceSID: strings.TrimSpace(getenv("TWILIO_MESSAGING_SERVICE_SID")),
		TwilioAPIURL:              strings.TrimSpace(getenv("TWILIO_API_URL")),
		StateDir:                  strings.TrimSpace(getenv("BREACHNOTICE_STATE_DIR")),
		LogLevel:                  strings.TrimSpace(getenv("LOG_LEVEL")),
		CPUProfile:                strings.TrimSpace(getenv("BREACHNOTICE_CPU_PROFILE")),
	}
	var errs []error
	for _, n := range []struct {
		name string
		to   *int
		def  int
	}{
		{"EMAIL_RATE", &c.EmailRate, 0}, {"SMS_RATE", &c.SMSRate, 0},
		{"WORKER_CONCURRENCY", &c.WorkerConcurrency, 8}, {"SMTP_CONNECTIONS", &c.SMTPConnections, 8},
		{"UPLOAD_MIN_RATE", &c.UploadMinRate, 32}, {"PAUSE_AFTER_FAILURES", &c.PauseAfterFailures, 25},
		{"HTTP_MAX_CONNECTIONS", &c.HTTPMaxConnections, 4096}, {"HTTP_MAX_CONNECTIONS_PER_CLIENT", &c.HTTPMaxConnectionsPerClient, 1024},
	} {
		v, err := nonNegative(n.name, getenv(n.name), n.def)
		if err != nil {
			errs = append(errs, err)
		}
		*n.to = v
	}
	var err error
	if c.DomainRates, err = parseDomainRates(getenv("EMAIL_DOMAIN_RATES")); err != nil {
		errs = append(errs, err)
	}
	for _, name := range []string{"SMTP_URL", "SMTP_URLS"} {
		// Set to blanks (a template's empty quotes, a stray space) reads as unset, and a
		// worker without a relay captures every email as a file: a real campaign would go
		// nowhere, with nothing but one log line to say so.
		if v := getenv(name); v != "" && strings.TrimSpace(v) == "" {
			errs = append(errs, fmt.Errorf("%s is set but blank: name the relay (smtp://user:pass@host:587), or unset it to capture email as files in OUTBOX_DIR", name))
		}
	}
	if c.SMTPURL != "" && c.SMTPURLs != "" {
		errs = append(errs, errors.New("SMTP_URL and SMTP_URLS are both set: set SMTP_URL for one relay or SMTP_URLS for several, not both"))
	}
	if c.HTTPAddr == "" {
		c.HTTPAddr = DefaultHTTPAddr
	}
	if c.DatabaseURL != "" {
		if err := checkURL(c.DatabaseURL, "postgres", "postgresql"); err != nil && !strings.Contains(c.DatabaseURL, "=") {
			errs = append(errs, fmt.Errorf("DATABASE_URL: %w (example: postgres://postgres@127.0.0.1:5432/breachnotice?sslmode=disable)", err))
		}
	}
	if c.RedisURL != "" {
		if _, err := redisconn.Parse(c.RedisURL); err != nil {
			if strings.Contains(err.Error(), "example") {
				errs = append(errs, fmt.Errorf("REDIS_URL: %w", err)) // it gives its own
			} else {
				errs = append(errs, fmt.Errorf("REDIS_URL: %w (examples: redis://127.0.0.1:6379/0, redis-sentinel://10.0.0.1:26379,10.0.0.2:26379?master=mymaster, redis-cluster://10.0.0.1:7000,10.0.0.2:7000)", err))
			}
		}
	}
	if _, _, err := net.SplitHostPort(c.HTTPAddr); err != nil {
		errs = append(errs, fmt.Errorf("HTTP_ADDR: %q is not host:port (example: 127.0.0.1:8080)", c.HTTPAddr))
	}
	if c.MetricsAddr != "" {
		if _, _, err := net.SplitHostPort(c.MetricsAddr); err != nil {
			errs = append(errs, fmt.Errorf("METRICS_ADDR: %q is not host:port (example: 127.0.0.1:9090)", c.MetricsAddr))
		}
	}
	if c.PublicURL != "" {
		if err := checkURL(c.PublicURL, "https", "http"); err != nil {
			errs = append(errs, fmt.Errorf("PUBLIC_URL: %w (example: https://notice.example.com)", err))
		}
		c.PublicURL = strings.TrimRight(c.PublicURL, "/")
	}
	if c.Secret != "" && len(c.Secret) < 32 {
		errs = append(errs, errors.New("BREACHNOTICE_SECRET: must be at least 32 characters (generate one with: openssl rand -hex 32)"))
	}
	if c.WebhookSecret != "" && len(c.WebhookSecret) < 32 {
		errs = append(errs, errors.New("WEBHOOK_SECRET: must be at least 32 characters (generate one with: openssl rand -hex 32)"))
	}
	if c.SNSTopicARNs, err = parseTopicARNs(getenv("SNS_TOPIC_ARNS")); err != nil {
		errs = append(errs, err)
	}
	if c.TrustedProxies, err = ParseTrustedProxies(getenv("TRUSTED_PROXIES")); err != nil {
		errs = append(errs, err)
	}
	if v := strings.TrimSpace(getenv("REQUIRE_TWO_PERSON")); v != "" {
		if c.RequireTwoPerson, err = strconv.ParseBool(v); err != nil {
			errs = append(errs, fmt.Errorf("REQUIRE_TWO_PERSON: %q is not true or false", v))
		}
	}
	return c, errors.Join(errs...)
}

// Require fails naming every listed variable that is unset.
func (c Config) Require(names ...string) error {
	var missing []string
	for _, n := range names {
		var v string
		switch n {
		case "DATABASE_URL":
			v = c.DatabaseURL
		case "REDIS_URL":
			v = c.RedisURL
		case "PUBLIC_URL":
			v = c.PublicURL
		case "BREACHNOTICE_SECRET":
			v = c.Secret
		default:
			panic("config: Require of unknown variable " + n)
		}
		if v == "" {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%s must be set (see README, Configuration)", strings.Join(missing, ", "))
	}
	return nil
}

func checkURL(raw string, schemes ...string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("not a URL: %v", redactParseError(err))
	}
	for _, s := range schemes {
		if u.Scheme == s {
			if u.Host == "" {
				return fmt.Errorf("URL has no host")
			}
			return nil
		}
	}
	return fmt.Errorf("scheme %q is not one of %s", u.Scheme, strings.Join(schemes, ", "))
}

// redactParseError drops the URL (which may hold a password) from url.Parse's error.
func redactParseError(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err.Error()
	}
	return "malformed"
}

// nonNegative reads a whole number variable; empty is def.
func nonNegative(name, raw string, def int) (int, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return def, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < 0 {
		return def, fmt.Errorf("%s: %q is not a whole number ≥ 0", name, raw)
	}
	return n, nil
}

// parseDomainRates reads "gmail.com=100,outlook.com=50".
func parseDomainRates(raw string) (map[string]int, error) {
	rates := map[string]int{}
	for item := range strings.SplitSeq(raw, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		domain, rate, ok := strings.Cut(item, "=")
		n, err := strconv.Atoi(strings.TrimSpace(rate))
		domain = strings.ToLower(strings.TrimSpace(domain))
		if !ok || err != nil || n <= 0 || domain == "" || strings.ContainsAny(domain, "@ /") {
			return nil, fmt.Errorf("EMAIL_DOMAIN_RATES: %q is not domain=messages-per-second (example: gmail.com=100,outlook.com=50)", item)
		}
		rates[domain] = n
	}
	return rates, nil
}

// parseTopicARNs reads "arn:aws:sns:us-east-1:123456789012:ses-bounces,…".
func parseTopicARNs(raw string) ([]string, error) {
	var arns []string
	for item := range strings.SplitSeq(raw, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		// arn:<partition>:sns:<region>:<account>:<topic>
		parts := strings.Split(item, ":")
		if len(parts) != 6 || parts[0] != "arn" || !strings.HasPrefix(parts[1], "aws") || parts[2] != "sns" ||
			parts[3] == "" || parts[4] == "" || parts[5] == "" {
			return nil, fmt.Errorf("SNS_TOPIC_ARNS: %q is not an SNS topic ARN (example: arn:aws:sns:us-east-1:123456789012:ses-notifications)", item)
		}
		arns = append(arns, item)
	}
	return arns, nil
}

// ParseTrustedProxies reads TRUSTED_PROXIES: comma-separated CIDRs ("10.0.0.0/8") or single
// addresses ("192.0.2.7", taken as /32 or /128).
func ParseTrustedProxies(raw string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for item := range strings.SplitSeq(raw, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		p, err := netip.ParsePrefix(item)
		if err != nil {
			a, aerr := netip.ParseAddr(item)
			if aerr != nil {
				return nil, fmt.Errorf("TRUSTED_PROXIES: %q is neither a CIDR nor an IP address (example: 10.0.0.0/8,192.0.2.7)", item)
			}
			a = a.Unmap()
			p = netip.PrefixFrom(a, a.BitLen())
		}
		out = append(out, p.Masked())
	}
	return out, nil
}
