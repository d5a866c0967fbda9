package config

import (
	"strings"
	"testing"
)

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func TestFromEnv_NamesEveryMalformedVariable(t *testing.T) {
	_, err := FromEnv(env(map[string]string{
		"DATABASE_URL":        "mysql://localhost/x",
		"REDIS_URL":           "127.0.0.1:6379",
		"HTTP_ADDR":           "8080",
		"PUBLIC_URL":          "ftp://example.com",
		"BREACHNOTICE_SECRET": "short",
	}))
	if err == nil {
		t.Fatal("malformed configuration accepted")
	}
	for _, name := range []string{"DATABASE_URL", "REDIS_URL", "HTTP_ADDR", "PUBLIC_URL", "BREACHNOTICE_SECRET"} {
		if !strings.Contains(err.Error(), name+":") {
			t.Errorf("error does not name %s:\n%v", name, err)
		}
	}
}

func TestFromEnv_DefaultsAndAcceptedForms(t *testing.T) {
	c, err := FromEnv(env(map[string]string{
		"DATABASE_URL": "host=/var/run/postgresql dbname=breachnotice",
		"REDIS_URL":    "rediss://user:pw@redis.internal:6380/2",
		"PUBLIC_URL":   "https://notice.example.com/",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.HTTPAddr != DefaultHTTPAddr || c.PublicURL != "https://notice.example.com" {
		t.Errorf("config = %+v", c)
	}
	if err := c.Require("DATABASE_URL", "BREACHNOTICE_SECRET"); err == nil || !strings.Contains(err.Error(), "BREACHNOTICE_SECRET") || strings.Contains(err.Error(), "DATABASE_URL") {
		t.Errorf("Require = %v, want only BREACHNOTICE_SECRET named", err)
	}
}

func TestFromEnv_ErrorsDoNotEchoPasswords(t *testing.T) {
	_, err := FromEnv(env(map[string]string{"REDIS_URL": "redis://user:s3cret@host:bad port/0"}))
	if err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("err = %v; want an error that does not contain the password", err)
	}
}

func TestFromEnv_WebhookCredentials(t *testing.T) {
	c, err := FromEnv(env(map[string]string{
		"TWILIO_AUTH_TOKEN": " 0123456789abcdef0123456789abcdef ",
		"WEBHOOK_SECRET":    "whsec_0123456789abcdef0123456789abcdef",
		"SNS_TOPIC_ARNS":    "arn:aws:sns:us-east-1:123456789012:ses, arn:aws-cn:sns:cn-north-1:123456789012:ses-cn",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.TwilioAuthToken != "0123456789abcdef0123456789abcdef" || len(c.SNSTopicARNs) != 2 || c.SNSTopicARNs[1] != "arn:aws-cn:sns:cn-north-1:123456789012:ses-cn" {
		t.Errorf("config = %+v", c)
	}
	_, err = FromEnv(env(map[string]string{"WEBHOOK_SECRET": "short", "SNS_TOPIC_ARNS": "arn:aws:sqs:us-east-1:123456789012:queue"}))
	for _, name := range []string{"WEBHOOK_SECRET:", "SNS_TOPIC_ARNS:"} {
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("err = %v; want it to name %s", err, name)
		}
	}
	if err != nil && strings.Contains(err.Error(), "short") {
		t.Errorf("err echoes the secret: %v", err)
	}
}

func TestFromEnv_MetricsAddrIsOffUnlessSetAndMustBeHostPort(t *testing.T) {
	c, err := FromEnv(env(map[string]string{}))
	if err != nil || c.MetricsAddr != "" {
		t.Errorf("unset METRICS_ADDR: %q, %v; want off", c.MetricsAddr, err)
	}
	c, err = FromEnv(env(map[string]string{"METRICS_ADDR": " 127.0.0.1:9090 "}))
	if err != nil || c.MetricsAddr != "127.0.0.1:9090" {
		t.Errorf("METRICS_ADDR = %q, %v", c.MetricsAddr, err)
	}
	if _, err := FromEnv(env(map[string]string{"METRICS_ADDR": "9090"})); err == nil || !strings.Contains(err.Error(), "METRICS_ADDR:") {
		t.Errorf("METRICS_ADDR=9090: %v, want an error naming it", err)
	}
}

func TestFromEnv_RedisURLMayNameSentinelsOrACluster(t *testing.T) {
	for _, u := range []string{"redis-sentinel://:pw@10.0.0.1:26379,10.0.0.2:26379/1?master=notices", "redis-cluster://10.0.0.1:7000,10.0.0.2:7000"} {
		if _, err := FromEnv(env(map[string]string{"REDIS_URL": u})); err != nil {
			t.Errorf("%s: %v", u, err)
		}
	}
	_, err := FromEnv(env(map[string]string{"REDIS_URL": "redis-sentinel://:s3cret@10.0.0.1:26379"}))
	if err == nil || !strings.Contains(err.Error(), "REDIS_URL:") || !strings.Contains(err.Error(), "master=") || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("err = %v; want REDIS_URL named, the missing master explained and no password", err)
	}
}

func TestFromEnv_SMTPURLAndSMTPURLSExcludeEachOther(t *testing.T) {
	_, err := FromEnv(env(map[string]string{
		"SMTP_URL":  "smtp://relay1.example:587",
		"SMTP_URLS": "smtp://relay1.example:587, smtp://relay2.example:587",
	}))
	if err == nil || !strings.Contains(err.Error(), "SMTP_URL and SMTP_URLS are both set") {
		t.Fatalf("FromEnv error = %v, want SMTP_URL and SMTP_URLS refused together", err)
	}
}

// SMTP_URLS=' ' read as unset: a worker then captured a real campaign's email as files
// (acceptance walk). Set but blank is refused; unset still captures.
func TestFromEnv_BlankRelayIsRefusedNotTakenForNone(t *testing.T) {
	for _, name := range []string{"SMTP_URL", "SMTP_URLS"} {
		_, err := FromEnv(env(map[string]string{name: "  "}))
		if err == nil || !strings.Contains(err.Error(), name+" is set but blank") {
			t.Errorf("%s blank: %v, want it refused", name, err)
		}
	}
	if _, err := FromEnv(env(map[string]string{})); err != nil {
		t.Errorf("unset: %v", err)
	}
	// One example, not two: the parser's own.
	_, err := FromEnv(env(map[string]string{"REDIS_URL": "127.0.0.1:6379"}))
	if err == nil || strings.Count(err.Error(), "example") > 1 {
		t.Errorf("REDIS_URL error %v: want one example", err)
	}
}
