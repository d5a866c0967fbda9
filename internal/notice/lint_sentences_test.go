package notice

import (
	"strings"
	"testing"
)

// asksForSecretWhole is asksForSecret as it was, over the whole text: the sentence-at-a-time
// reading with its word filter must find the same passage in every text.
func asksForSecretWhole(text string) string {
	for _, loc := range askForSecret.FindAllStringIndex(text, -1) {
		if negationBefore.MatchString(text[max(0, loc[0]-30):loc[0]]) || negationAfter.MatchString(text[loc[1]:]) {
			continue
		}
		return text[loc[0]:loc[1]]
	}
	return ""
}

// TestAsksForSecret_SentenceReadingFindsWhatTheWholeTextDid: every rendered notice of the
// example campaign, each sentence alone, and texts built to ask (in each language, in odd
// letter cases, a long s) give the same answer read a sentence at a time as read whole.
func TestAsksForSecret_SentenceReadingFindsWhatTheWholeTextDid(t *testing.T) {
	rd, err := New("", []byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	c := exampleCampaign(t)
	texts := []string{
		"Please SEND us your PASSWORD now.", "Do not send your password. Send your PIN to us!",
		"Envíe su contraseña aquí", "Veuillez saisir votre mot de passe", "비밀번호를 입력하세요",
		"비밀번호를 입력하지 마십시오.", "send your paſſword", "Pay the fee now\nor else", "Transfer now to unlock your account",
		"Ingrese el número de su tarjeta", "confirmez vos coordonnées bancaires", "we never ask: enter your OTP",
		// A review's: a line wrap inside a Korean request, a long s before a word, PIN with no
		// word boundary in Korean.
		"카드\n번호를 입력하세요", "인증\n번호를 보내 주세요", "send your ſpin now", "ATMPIN을 입력하세요",
	}
	for _, v := range Variants(c) {
		n, err := rd.Preview(c, Sample(c, v), Options{Locale: v.Locale})
		if err != nil {
			t.Fatal(err)
		}
		texts = append(texts, n.Text, n.SMS.Body)
		texts = append(texts, strings.FieldsFunc(n.Text, func(r rune) bool { return r == '\n' })...)
	}
	asking := 0
	for _, text := range texts {
		want := asksForSecretWhole(text)
		if got := asksForSecret(text); got != want {
			t.Errorf("asksForSecret(%.80q) = %q, read whole %q", text, got, want)
		}
		if want != "" {
			asking++
		}
	}
	if asking < 8 {
		t.Errorf("only %d texts ask for a secret: the comparison proves little", asking)
	}
}
