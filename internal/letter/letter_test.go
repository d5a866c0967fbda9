package letter_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/breachnotice/breachnotice/examples"
	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/campaignfile"
	"github.com/breachnotice/breachnotice/internal/letter"
	"github.com/breachnotice/breachnotice/internal/notice"
)

var secret = []byte("test-secret-test-secret-test-secret!")

func campaign(t testing.TB) *breach.Campaign {
	t.Helper()
	c, _, err := campaignfile.Parse("campaign.yaml", bytes.NewReader(examples.Campaign))
	if err != nil {
		t.Fatal(err)
	}
	c.ID = "6f1f3e56-0000-4000-8000-000000000001"
	return c
}

var writer = sync.OnceValues(letter.NewWriter)

func newWriter(t testing.TB) *letter.Writer {
	t.Helper()
	w, err := writer()
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// customer is one postal customer of the example campaign, with the address block the post of
// their country wants.
type customer struct {
	r  breach.Recipient
	to []string
}

var customers = map[string]customer{
	"en": {breach.Recipient{CustomerID: "US-1", Name: "Jordan Miller", Locale: "en-US", Country: "US", Jurisdiction: "us-ca",
		Exposed:    breach.Categories(0).With(breach.CategoryNationalID).With(breach.CategoryPaymentCard),
		Attributes: map[string]string{"offer_code": "CID-7731-QX"}},
		[]string{"Jordan Miller", "1200 Market Street Apt 4B", "San Francisco CA 94102"}},
	"es": {breach.Recipient{CustomerID: "PE-1", Name: "Ana Quispe Mamani", Locale: "es-PE", Country: "PE",
		Exposed: breach.Categories(0).With(breach.CategorySIM).With(breach.CategoryNationalID)},
		[]string{"Ana Quispe Mamani", "Jr. Las Begonias 415, Dpto. 302", "San Isidro", "LIMA 15046", "PERÚ"}},
	"fr": {breach.Recipient{CustomerID: "FR-1", Name: "Hélène Lefèvre-Œuvray", Locale: "fr-FR", Country: "FR",
		Exposed: breach.Categories(0).With(breach.CategoryEmail).With(breach.CategoryDateOfBirth)},
		[]string{"Hélène Lefèvre-Œuvray", "12 rue de l'Église", "69002 LYON", "FRANCE"}},
	"ko": {breach.Recipient{CustomerID: "KR-1", Name: "김민준", Locale: "ko-KR", Country: "KR",
		Exposed: breach.Categories(0).With(breach.CategoryNationalID).With(breach.CategoryCallRecords)},
		[]string{"김민준 님", "서울특별시 강남구 테헤란로 152", "06236", "대한민국"}},
}

// render makes customer k's letter and returns it with its content.
func render(t testing.TB, k string, change ...func(*breach.Recipient)) (*letter.Letter, *breach.Recipient) {
	t.Helper()
	c := campaign(t)
	c.Jurisdictions = []string{"gdpr", "us-ca", "kr-pipa"}
	rd, err := notice.New("", secret)
	if err != nil {
		t.Fatal(err)
	}
	cu := customers[k]
	r := cu.r
	for _, f := range change {
		f(&r)
	}
	content, err := rd.Letter(c, &r)
	if err != nil {
		t.Fatal(err)
	}
	return &letter.Letter{Paper: letter.PaperFor(r.Country), From: []string{c.Organization.Name, "Av. Paseo de la República 3211", "San Isidro, Lima 15047, Perú"},
		To: cu.to, Date: time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC), Content: content}, &r
}

func write(t testing.TB, l *letter.Letter) ([]byte, int) {
	t.Helper()
	var b bytes.Buffer
	pages, err := newWriter(t).Write(&b, l)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b.Bytes(), []byte("%PDF-")) {
		t.Fatal("the output is not a PDF")
	}
	return b.Bytes(), pages
}

// pdftotext extracts a PDF's text (poppler-utils); the test is skipped where it is missing:
// scripts/services.sh installs it.
func pdftotext(t *testing.T, pdf []byte, args ...string) string {
	t.Helper()
	if _, err := exec.LookPath("pdftotext"); err != nil {
		t.Skip("pdftotext (poppler-utils) is not installed")
	}
	path := filepath.Join(t.TempDir(), "letter.pdf")
	if err := os.WriteFile(path, pdf, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("pdftotext", append(append([]string{"-enc", "UTF-8"}, args...), path, "-")...).Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	return string(out)
}

// oneLine is text with its layout's line breaks and runs of spaces made single spaces, so a
// test finds a sentence whatever the line it was broken at.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func TestWrite_EachLanguageExtractsNameAddressReferenceTitleAndHeadings(t *testing.T) {
	wantHeadings := map[string][]string{
		"en": {"Notice of Data Breach", "What Happened", "What Information Was Involved", "What We Are Doing", "What You Can Do", "For More Information"},
		"es": {"Qué información se vio afectada", "Qué estamos haciendo", "Qué puede hacer usted"},
		"fr": {"Les informations concernées", "Ce que nous faisons", "Ce que vous pouvez faire"},
		"ko": {"유출된 개인정보 항목", "당사의 대응 조치", "피해 예방을 위해 고객님께서 하실 수 있는 조치"},
	}
	for k := range customers {
		t.Run(k, func(t *testing.T) {
			l, r := render(t, k)
			pdf, pages := write(t, l)
			text := oneLine(pdftotext(t, pdf))
			for _, want := range append(append([]string{r.Name, l.Content.Reference, l.Content.Title}, l.To...), wantHeadings[k]...) {
				if !strings.Contains(text, oneLine(want)) {
					t.Errorf("the %s letter's text lacks %q:\n%s", k, want, text)
				}
			}
			for _, s := range l.Content.Sections {
				if s.Heading != "" && !strings.Contains(text, s.Heading) {
					t.Errorf("the %s letter's text lacks the heading %q", k, s.Heading)
				}
			}
			if n := strings.Count(text, l.Content.Reference); n < pages+1 {
				t.Errorf("the reference appears %d times in %d pages; want it on every page and in the text", n, pages)
			}
			if k == "en" && !strings.Contains(text, "CID-7731-QX") {
				t.Error("the enrolment code is not in the letter")
			}
			if k == "ko" && !regexp.MustCompile(`\p{Hangul}{4,}`).MatchString(text) {
				t.Errorf("the Korean letter's text does not extract as Hangul:\n%s", text)
			}
		})
	}
}

func TestWrite_PaperIsA4OrUSLetterByCountry(t *testing.T) {
	if _, err := exec.LookPath("pdfinfo"); err != nil {
		t.Skip("pdfinfo (poppler-utils) is not installed")
	}
	for k, want := range map[string]string{"en": "612 x 792 pts (letter)", "fr": "595.28 x 841.89 pts (A4)", "ko": "595.28 x 841.89 pts (A4)"} {
		l, _ := render(t, k)
		pdf, _ := write(t, l)
		path := filepath.Join(t.TempDir(), "l.pdf")
		os.WriteFile(path, pdf, 0o644)
		out, err := exec.Command("pdfinfo", path).Output()
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(oneLine(string(out)), "Page size: "+want) {
			t.Errorf("%s letter: want page size %s, pdfinfo says:\n%s", k, want, out)
		}
	}
}

// TestWrite_AddressSitsInTheEnvelopeWindow reads where pdftotext finds the first address line
// and checks it is inside the window of the paper's envelope.
func TestWrite_AddressSitsInTheEnvelopeWindow(t *testing.T) {
	const mm = 72 / 25.4
	windows := map[letter.Paper][4]float64{ // left, top, right, bottom in mm
		letter.A4:       {20, 45, 105, 90},
		letter.USLetter: {22.2, 50.8, 22.2 + 114.3, 50.8 + 28.6},
	}
	word := regexp.MustCompile(`<word xMin="([0-9.]+)" yMin="([0-9.]+)" xMax="([0-9.]+)" yMax="([0-9.]+)">([^<]*)</word>`)
	british := []string{"Oliver Brown", "Flat 3", "Rose Court", "Kings Road 12", "WESTMINSTER", "Greater London", "SW1A 1AA", "UNITED KINGDOM"}
	for _, k := range []string{"en", "fr", "en-8", "fr-8"} {
		l, _ := render(t, k[:2])
		if strings.HasSuffix(k, "-8") {
			l.To = british // eight lines: a smaller type, still in the window
		}
		pdf, _ := write(t, l)
		bbox := pdftotext(t, pdf, "-bbox", "-f", "1", "-l", "1")
		win := windows[l.Paper]
		for _, line := range l.To {
			first := strings.Fields(line)[0]
			found := false
			for _, m := range word.FindAllStringSubmatch(bbox, -1) {
				if m[5] != first {
					continue
				}
				var box [4]float64
				for i := range box {
					box[i] = atof(m[i+1]) / mm
				}
				if box[0] >= win[0] && box[1] >= win[1] && box[2] <= win[2] && box[3] <= win[3] {
					found = true
				}
			}
			if !found {
				t.Errorf("%s (%s): %q is not inside the window %v mm", k, l.Paper, first, win)
			}
		}
	}
}

// TestWrite_ReturnAddressIsWholeAboveTheWindowAddress: on A4 the sender's lines are the
// letterhead and, in small type, the return address at the top of the window, above the
// recipient's; on US Letter they sit in the upper window. No line of it is cut.
func TestWrite_ReturnAddressIsWholeAboveTheWindowAddress(t *testing.T) {
	const mm = 72 / 25.4
	word := regexp.MustCompile(`<word xMin="([0-9.]+)" yMin="([0-9.]+)" xMax="([0-9.]+)" yMax="([0-9.]+)">([^<]*)</word>`)
	for k, zone := range map[string][2]float64{"fr": {45, 62.7}, "en": {10, 45}} { // top and bottom, mm
		l, _ := render(t, k)
		pdf, _ := write(t, l)
		if text := oneLine(pdftotext(t, pdf, "-f", "1", "-l", "1")); strings.Contains(text, "…") {
			t.Errorf("%s: a line of the first page is cut: %s", k, text)
		}
		found := false
		for _, m := range word.FindAllStringSubmatch(pdftotext(t, pdf, "-bbox", "-f", "1", "-l", "1"), -1) {
			if m[5] == "15047," && atof(m[2])/mm >= zone[0] && atof(m[4])/mm <= zone[1] {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: the return address's postcode is not between %v mm from the top", k, zone)
		}
	}
}

func TestWrite_LongLetterBreaksPagesAndNumbersThem(t *testing.T) {
	l, _ := render(t, "en")
	long := *l.Content
	long.Sections = append([]notice.LetterSection(nil), long.Sections...)
	for i := range 12 {
		long.Sections = append(long.Sections, notice.LetterSection{Heading: "Extra section " + string(rune('A'+i)),
			Paragraphs: []string{strings.Repeat("This paragraph makes the letter long enough to need several pages. ", 12)}})
	}
	l.Content = &long
	pdf, pages := write(t, l)
	if pages < 3 {
		t.Fatalf("a long letter took %d pages; want at least 3", pages)
	}
	for p := 1; p <= pages; p++ {
		text := pdftotext(t, pdf, "-f", itoa(p), "-l", itoa(p))
		if want := itoa(p) + "/" + itoa(pages); !strings.Contains(text, want) {
			t.Errorf("page %d does not say %q", p, want)
		}
		if !strings.Contains(text, l.Content.Reference) {
			t.Errorf("page %d does not show the reference %s", p, l.Content.Reference)
		}
	}
	if text := oneLine(pdftotext(t, pdf)); !strings.Contains(text, "Extra section L") {
		t.Error("the last section is missing")
	}
}

func TestWrite_HostileTextStaysOnThePage(t *testing.T) {
	unbroken := strings.Repeat("W", 400)
	names := []string{
		"Name\u202eevil\u202c Name",
		"Ana 😀🔥 Pérez \u200d\u0000\u0007\x1b[31m",
		"tab\tnew\nline\r{nb} \\ ( ) %PDF",
		"\ufeff\ue000\U0010FFFF  ",
		"ㅋㅋ 똠방각하 햏",
	}
	const mm = 72 / 25.4
	for _, name := range names {
		l, _ := render(t, "fr")
		content := *l.Content
		content.Greeting = "Bonjour " + name + ","
		content.Sections = append([]notice.LetterSection{{Heading: name, Paragraphs: []string{name + " " + unbroken + unbroken},
			Items: []notice.LetterItem{{Lead: name, Text: []string{unbroken}}}}}, content.Sections...)
		l.Content = &content
		l.To = []string{name, "12 rue de la République", "69002 LYON"}
		var b bytes.Buffer
		pages, err := newWriter(t).Write(&b, l)
		if err != nil {
			t.Fatalf("%q: %v", name, err)
		}
		if pages < 1 {
			t.Fatalf("%q: no page", name)
		}
		bbox := pdftotext(t, b.Bytes(), "-bbox")
		for _, m := range regexp.MustCompile(`<word xMin="([-0-9.]+)" yMin="([-0-9.]+)" xMax="([-0-9.]+)" yMax="([-0-9.]+)"`).FindAllStringSubmatch(bbox, -1) {
			x0, y0, x1, y1 := atof(m[1])/mm, atof(m[2])/mm, atof(m[3])/mm, atof(m[4])/mm
			if x0 < 10 || y0 < 5 || x1 > 210-15 || y1 > 297-5 {
				t.Errorf("%q: a word at [%.0f %.0f %.0f %.0f] mm is outside the printable area", name, x0, y0, x1, y1)
				break
			}
		}
	}
}

// TestWrite_RefusesLettersThatWouldNotPrintAsWritten: the review's letters went out with
// "Dear � ��", a Japanese address of U+FFFD, Hebrew mirrored and a Peruvian street cut at
// "Mz. K…". Each is refused, with a reason that names no personal data; a long line that can
// break between words is set on two lines instead, whole.
func TestWrite_RefusesLettersThatWouldNotPrintAsWritten(t *testing.T) {
	for _, c := range []struct {
		why  string
		to   []string
		want string
	}{
		{"Japanese", []string{"山田 太郎", "千代田区千代田1-1", "東京都 100-0001"}, "lack the Han characters"},
		{"Chinese in a US address", []string{"Chen Dawen", "123 Grant Ave 三樓", "San Francisco CA 94108"}, "Han"},
		{"Thai and kana", []string{"สมชาย", "カタカナ", "Bangkok 10200"}, "Katakana, Thai"},
		{"Hebrew", []string{"שרה כהן", "רחוב הרצל 5", "New York NY 10001"}, "right-to-left"},
		{"Arabic", []string{"Name", "شارع 5", "New York NY 10001"}, "right-to-left"},
		{"a character the list's encoding lost", []string{"Jos\ufffd P\ufffdrez", "Av. Lima 1", "LIMA 15001"}, "U+FFFD"},
		{"a word wider than the window", []string{"Name", strings.Repeat("W", 60), "LIMA 15001"}, "too long for the envelope's window"},
	} {
		l, _ := render(t, "es")
		l.To = c.to
		var b bytes.Buffer
		_, err := newWriter(t).Write(&b, l)
		var u *letter.UnprintableError
		if !errors.As(err, &u) || breach.ErrorCode(err) != breach.EINVALID || !strings.Contains(u.Reason, c.want) {
			t.Errorf("%s: got %v, want an unprintable letter saying %q", c.why, err, c.want)
			continue
		}
		if b.Len() != 0 {
			t.Errorf("%s: %d bytes written for a refused letter", c.why, b.Len())
		}
		for _, line := range c.to {
			for _, f := range strings.Fields(line) {
				if len(f) > 3 && strings.Contains(u.Reason, f) {
					t.Errorf("%s: the reason quotes the address (%q): %s", c.why, f, u.Reason)
				}
			}
			for _, r := range line {
				if r > 0x7f && r != '\ufffd' && strings.Contains(u.Reason, fmt.Sprintf("%04X", r)) {
					t.Errorf("%s: the reason spells the address by code point (%U): %s", c.why, r, u.Reason)
				}
			}
		}
	}

	// Lines too wide at 8 pt break between words onto the next line, every word kept.
	l, _ := render(t, "es")
	l.To = []string{"María del Carmen Quispe Huamán", "Asentamiento Humano Señor de los Milagros Mz. K Lt. 14, 2do piso",
		"Referencia: frente al mercado", "San Juan de Lurigancho", "LIMA 15401"}
	pdf, _ := write(t, l)
	text := oneLine(pdftotext(t, pdf, "-f", "1", "-l", "1"))
	if strings.Contains(text, "…") || !strings.Contains(text, "2do piso") || !strings.Contains(text, "Asentamiento") {
		t.Errorf("a long address line is not printed whole on two lines: %s", text)
	}
}

func TestWrite_RefusesAddressesNoWindowCanShow(t *testing.T) {
	l, _ := render(t, "fr")
	l.To = []string{"1", "2", "3", "4", "5", "6", "7", "8", "9"}
	if _, err := newWriter(t).Write(&bytes.Buffer{}, l); breach.ErrorCode(err) != breach.EINVALID {
		t.Errorf("a nine-line address: got %v, want EINVALID", err)
	}
	l.To = nil
	if _, err := newWriter(t).Write(&bytes.Buffer{}, l); breach.ErrorCode(err) != breach.EINVALID {
		t.Errorf("no address: got %v, want EINVALID", err)
	}
}

func TestWrite_ConcurrentLettersShareOneWriter(t *testing.T) {
	w := newWriter(t)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 8 {
		k := []string{"en", "es", "fr", "ko"}[i%4]
		l, _ := render(t, k)
		wg.Go(func() {
			var b bytes.Buffer
			if _, err := w.Write(&b, l); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestWrite_HangulOutsideKSX1001StillPrints(t *testing.T) {
	l, _ := render(t, "ko", func(r *breach.Recipient) { r.Name = "똠방각하 햏" })
	l.To[0] = "똠방각하 햏 님"
	pdf, _ := write(t, l)
	if text := pdftotext(t, pdf); strings.Count(text, "똠방각하 햏") < 2 {
		t.Errorf("a name outside KS X 1001 does not extract from the address and greeting:\n%s", text)
	}
}

// BenchmarkWrite measures letters as the letters operation writes them: pages per second,
// bytes and memory per letter bound the operation. The example campaign's texts make a Latin
// letter three pages and a Korean one with one category two; "en-2p" is the English letter
// without its offer and bureaus sections, to compare two-page letters.
func BenchmarkWrite(b *testing.B) {
	one := func(r *breach.Recipient) { r.Exposed = breach.Categories(0).With(breach.CategoryEmail) }
	short := func(l *letter.Letter) {
		c := *l.Content
		c.Sections = slices.DeleteFunc(slices.Clone(c.Sections), func(s notice.LetterSection) bool {
			return s.Key == notice.SectionOffer || s.Key == notice.SectionBureaus || s.Key == notice.SectionRights
		})
		l.Content = &c
	}
	for _, tc := range []struct {
		name, k string
		pages   int
		shorten func(*letter.Letter)
		change  []func(*breach.Recipient)
	}{
		{"en-2p", "en", 2, short, []func(*breach.Recipient){one}},
		{"ko-2p", "ko", 2, nil, []func(*breach.Recipient){one}},
		{"en-3p", "en", 3, nil, nil},
		{"ko-3p", "ko", 3, nil, nil},
	} {
		b.Run(tc.name, func(b *testing.B) {
			l, _ := render(b, tc.k, tc.change...)
			if tc.shorten != nil {
				tc.shorten(l)
			}
			w := newWriter(b)
			var size, pages int
			b.ReportAllocs()
			start := letter.CPUTime()
			for b.Loop() {
				var buf bytes.Buffer
				n, err := w.Write(&buf, l)
				if err != nil {
					b.Fatal(err)
				}
				size, pages = buf.Len(), n
			}
			if pages != tc.pages {
				b.Fatalf("the letter has %d pages, want %d", pages, tc.pages)
			}
			letter.ReportCPU(b, start)
			b.ReportMetric(float64(size), "bytes/letter")
			b.ReportMetric(float64(pages*b.N)/b.Elapsed().Seconds(), "pages/s")
		})
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

func atof(s string) float64 {
	f, _ := strconv.ParseFloat(s, 64)
	return f
}
