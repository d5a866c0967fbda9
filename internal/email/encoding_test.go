package email

import (
	"bytes"
	"encoding/base64"
	"io"
	"math/rand/v2"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"testing"

	"github.com/breachnotice/breachnotice/examples"
	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/campaignfile"
	"github.com/breachnotice/breachnotice/internal/notice"
)

func TestQPSize_MatchesTheWriter(t *testing.T) {
	// Runs of the bytes the Writer treats apart: line breaks, spaces and tabs (encoded before
	// a line break), '=', non-ASCII, and long plain runs that need soft line breaks.
	pieces := []string{"\n", "\r\n", "\r", " ", "\t", "=", "é", "한국", "a", "word ", "\r\r\n",
		strings.Repeat("x", 74), strings.Repeat("y", 80), "  \n"}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 3000 {
		var b strings.Builder
		for range rng.IntN(60) {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		s := b.String()
		var out bytes.Buffer
		w := quotedprintable.NewWriter(&out)
		if _, err := io.WriteString(w, s); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if got := qpSize(s); got != out.Len() {
			t.Fatalf("case %d: qpSize(%q) = %d, the Writer wrote %d bytes", i, s, got, out.Len())
		}
	}
}

func TestBodyEncoding_QuickBoundsChooseAsTheExactSizesWould(t *testing.T) {
	// Text from all-ASCII to all-Hangul, through the mixes near the tie where the exact size
	// decides.
	pieces := []string{"a", "word ", "\n", "\r\n", " \n", "=", "é", "한", "\t", "\r"}
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range 5000 {
		var b strings.Builder
		weights := rng.IntN(len(pieces)) + 1
		for range rng.IntN(400) {
			b.WriteString(pieces[rng.IntN(weights)])
		}
		s := b.String()
		want := "quoted-printable"
		if base64Size(len(s)+strings.Count(s, "\n")-strings.Count(s, "\r\n")) < qpSize(s) {
			want = "base64"
		}
		if got := bodyEncoding(s); string(got) != want {
			t.Fatalf("case %d: bodyEncoding(%q) = %s, the exact sizes say %s", i, s, got, want)
		}
	}
}

func TestBodyEncoding_Base64ForKoreanQuotedPrintableForSpanish(t *testing.T) {
	if enc := bodyEncoding("한국어\n본문\r\n끝\n"); enc != base64Transfer {
		t.Errorf("bodyEncoding(Korean) = %s, want base64", enc)
	}
	if enc := bodyEncoding("Hola,\nañadimos\n"); enc != qpTransfer {
		t.Errorf("bodyEncoding(Spanish) = %s, want quoted-printable", enc)
	}
}

// encoderPieces are runs of the bytes the encoders treat apart: line breaks (LF, CRLF, a lone
// CR), spaces and tabs (escaped before a line break), '=', control bytes, non-ASCII, and plain
// runs long enough to need soft line breaks.
var encoderPieces = []string{"\n", "\r\n", "\r", " ", "\t", "=", "é", "한국", "a", "word ", "\r\r\n", "\x00", "\x7f",
	strings.Repeat("x", 74), strings.Repeat("y", 80), "  \n", " \t", strings.Repeat("z", 75) + " "}

func randomText(rng *rand.Rand, pieces int) string {
	var b strings.Builder
	for range rng.IntN(pieces) {
		b.WriteString(encoderPieces[rng.IntN(len(encoderPieces))])
	}
	return b.String()
}

func TestAppendQP_WritesWhatTheWriterWrites(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for i := range 5000 {
		s := randomText(rng, 80)
		var want bytes.Buffer
		w := quotedprintable.NewWriter(&want)
		if _, err := io.WriteString(w, s); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		got := appendQP([]byte("prefix"), s)
		if string(got) != "prefix"+want.String() {
			t.Fatalf("case %d: appendQP(%q) = %q, the Writer writes %q", i, s, got[6:], want.Bytes())
		}
		if len(got)-6 != qpSize(s) {
			t.Fatalf("case %d: appendQP(%q) wrote %d bytes, qpSize says %d", i, s, len(got)-6, qpSize(s))
		}
	}
}

func TestAppendBase64_IsTheTextWithCRLFInLinesOf76(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for i := range 3000 {
		s := randomText(rng, 80)
		crlf := canonical(s)
		enc := base64.StdEncoding.EncodeToString([]byte(crlf))
		var want strings.Builder
		for len(enc) > 76 {
			want.WriteString(enc[:76] + "\r\n")
			enc = enc[76:]
		}
		if enc != "" {
			want.WriteString(enc + "\r\n")
		}
		got := appendBase64(nil, s)
		if string(got) != want.String() {
			t.Fatalf("case %d: appendBase64(%q) = %q, want %q", i, s, got, want.String())
		}
		if len(got) != base64Size(len(crlf)) {
			t.Fatalf("case %d: appendBase64(%q) wrote %d bytes, base64Size says %d", i, s, len(got), base64Size(len(crlf)))
		}
	}
}

// canonical makes every LF not preceded by CR a CRLF.
func canonical(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' && (i == 0 || s[i-1] != '\r') {
			b.WriteByte('\r')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// exampleNotice renders the example campaign's notice in locale as a Message.
func exampleNotice(t testing.TB, locale string) Message {
	t.Helper()
	c, _, err := campaignfile.Parse("campaign.yaml", bytes.NewReader(examples.Campaign))
	if err != nil {
		t.Fatal(err)
	}
	c.ID = "6f1f3e56-0000-4000-8000-000000000001"
	rd, err := notice.New("", []byte("test-secret-test-secret-test-secret!"))
	if err != nil {
		t.Fatal(err)
	}
	r := &breach.Recipient{CustomerID: "C-1", Email: "customer@example.net", Name: "김민준",
		Locale: locale, Exposed: breach.Categories(0b1011)}
	n, err := rd.Render(c, r, notice.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return Message{From: c.Sender.Email, FromName: c.Sender.Name, To: r.Email,
		Subject: n.Subject, Text: n.Text, HTML: n.HTML, Reference: n.Reference,
		UnsubscribeURL: "https://notice.example.com/u/tok_abc.def"}
}

// wireParts reads raw's parts: their transfer encodings and decoded bodies, by media type.
func wireParts(t *testing.T, raw []byte) (encodings, bodies map[string]string) {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	_, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		t.Fatal(err)
	}
	encodings, bodies = map[string]string{}, map[string]string{}
	r := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := r.NextRawPart() // raw: this test decodes, to see each part's own encoding
		if err == io.EOF {
			return encodings, bodies
		}
		if err != nil {
			t.Fatal(err)
		}
		ct, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		enc := p.Header.Get("Content-Transfer-Encoding")
		var body io.Reader = p
		switch enc {
		case "base64":
			body = base64.NewDecoder(base64.StdEncoding, p)
		case "quoted-printable":
			body = quotedprintable.NewReader(p)
		}
		b, err := io.ReadAll(body)
		if err != nil {
			t.Fatalf("%s part (%s): %v", ct, enc, err)
		}
		encodings[ct], bodies[ct] = enc, strings.ReplaceAll(string(b), "\r\n", "\n")
	}
}

func TestBuild_EachPartTakesTheSmallerEncoding(t *testing.T) {
	tests := []struct {
		locale, want string
		maxRatio     float64 // bytes on the wire per byte of UTF-8 text, headers included
	}{
		{"ko-KR", "base64", 1.5},
		// base64 would be over 1.37 ×.
		{"es-PE", "quoted-printable", 1.3},
		{"en-US", "quoted-printable", 1.3},
	}
	for _, tt := range tests {
		t.Run(tt.locale, func(t *testing.T) {
			m := exampleNotice(t, tt.locale)
			raw, err := Build(m, nil)
			if err != nil {
				t.Fatal(err)
			}
			text := len(m.Text) + len(m.HTML)
			if ratio := float64(len(raw)) / float64(text); ratio > tt.maxRatio {
				t.Errorf("%d bytes on the wire for %d bytes of text: %.2f ×, want ≤ %.2f ×", len(raw), text, ratio, tt.maxRatio)
			}
			t.Logf("%d bytes on the wire for %d bytes of text: %.2f ×", len(raw), text, float64(len(raw))/float64(text))
			encodings, bodies := wireParts(t, raw)
			for ct, want := range map[string]string{"text/plain": m.Text, "text/html": m.HTML} {
				if encodings[ct] != tt.want {
					t.Errorf("%s part is %q, want %s", ct, encodings[ct], tt.want)
				}
				if bodies[ct] != strings.ReplaceAll(want, "\r\n", "\n") {
					t.Errorf("%s part does not decode back to the notice's text", ct)
				}
			}
			subject, err := new(mime.WordDecoder).DecodeHeader(headerValue(t, raw, "Subject"))
			if err != nil || subject != m.Subject {
				t.Errorf("Subject decodes to %q (%v), want %q", subject, err, m.Subject)
			}
		})
	}
}

func headerValue(t *testing.T, raw []byte, name string) string {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	return msg.Header.Get(name)
}
