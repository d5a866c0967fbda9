package notice

import (
	"html"
	"strings"
	"testing"
	"time"

	"github.com/breachnotice/breachnotice/internal/breach"
)

func TestVerifyLocale_LangThenAcceptLanguageThenEnglish(t *testing.T) {
	rd := renderer(t, "")
	for _, tt := range []struct{ lang, accept, want string }{
		{"", "", "en"},
		{"", "es-PE,es;q=0.9,en;q=0.5", "es"},
		{"", "fr-CA", "fr"},
		{"", "ko-KR,ko;q=0.9", "ko"},
		{"", "de-DE,de;q=0.9", "en"},
		{"", "pt-BR, fr;q=0.4", "fr"},
		{"ko", "es-PE", "ko"},
		{"xx-not-a-tag", "fr", "fr"},
		{"de", "es", "es"},
		{"", "\x00garbage;q=x", "en"},
	} {
		if got := rd.VerifyLocale(tt.lang, tt.accept); got != tt.want {
			t.Errorf("VerifyLocale(%q, %q) = %q, want %q", tt.lang, tt.accept, got, tt.want)
		}
	}
}

func TestVerifyPage_EachLocaleSaysGenuineOrNotInItsOwnWords(t *testing.T) {
	rd := renderer(t, "")
	c := exampleCampaign(t)
	sent := time.Date(2026, 11, 20, 15, 4, 5, 0, time.UTC)
	genuine := &breach.Verification{Genuine: true, Reference: "7KQ2-M9XD-3F", Organization: c.Organization, SentAt: sent}
	for locale, want := range map[string][]string{
		"en": {"Yes: we sent this notice", "November 20, 2026", "We did not send this", "reportphishing@apwg.org"},
		"es": {"Sí: este aviso lo enviamos nosotros", "20 de noviembre de 2026", "Nosotros no enviamos este mensaje", "DIVINDAT"},
		"fr": {"Oui : cet avis vient bien de nous", "20 novembre 2026", "Nous n'avons pas envoyé ce message", "33700"},
		"ko": {"당사가 발송한 안내가 맞습니다", "2026년 11월 20일", "당사가 보낸 메시지가 아닙니다", "118"},
	} {
		yesHTML, err := rd.VerifyPage(VerifyCheck{Locale: locale, Result: genuine})
		if err != nil {
			t.Fatal(err)
		}
		noHTML, err := rd.VerifyPage(VerifyCheck{Locale: locale, Result: &breach.Verification{Reference: "0000-0000-00"}})
		if err != nil {
			t.Fatal(err)
		}
		yes, no := html.UnescapeString(string(yesHTML)), html.UnescapeString(string(noHTML))
		for _, s := range want[:2] {
			if !strings.Contains(yes, s) {
				t.Errorf("%s: the genuine page lacks %q", locale, s)
			}
		}
		for _, s := range []string{c.Organization.Name, c.Organization.SupportURL, c.Organization.SupportPhone, c.Organization.DPO.Email} {
			if !strings.Contains(yes, s) {
				t.Errorf("%s: the genuine page lacks the official contact %q", locale, s)
			}
		}
		for _, s := range want[2:] {
			if !strings.Contains(no, s) {
				t.Errorf("%s: the page of a code we did not send lacks %q", locale, s)
			}
		}
		if strings.Contains(no, c.Organization.Name) {
			t.Errorf("%s: the page of a code we did not send names a company", locale)
		}
		if !strings.Contains(yes, `lang="`+locale+`"`) {
			t.Errorf("%s: the page does not say its language", locale)
		}
	}
}
