package phone

import (
	"errors"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/nyaruka/phonenumbers"
)

// reference is what Parse must return: phonenumbers.Parse, then IsValidNumber.
func reference(raw, region string) (string, bool) {
	num, err := phonenumbers.Parse(raw, region)
	if err != nil || num.GetExtension() != "" || !phonenumbers.IsValidNumber(num) {
		return "", false
	}
	return phonenumbers.Format(num, phonenumbers.E164), true
}

// TestParse_AgreesWithLibraryInEveryRegion feeds the parser the library's example numbers for
// every region and type, written in every format people use, read with their own region and
// with others, plus digit mutations of each — and requires the exact verdict of
// phonenumbers.Parse + IsValidNumber. This is what makes the fast path safe.
func TestParse_AgreesWithLibraryInEveryRegion(t *testing.T) {
	p, err := NewParser()
	if err != nil {
		t.Fatal(err)
	}
	regions := slices.Sorted(func(yield func(string) bool) {
		for r := range phonenumbers.GetSupportedRegions() {
			if !yield(r) {
				return
			}
		}
	})
	types := []phonenumbers.PhoneNumberType{phonenumbers.FIXED_LINE, phonenumbers.MOBILE,
		phonenumbers.TOLL_FREE, phonenumbers.VOIP, phonenumbers.FIXED_LINE_OR_MOBILE}
	formats := []phonenumbers.PhoneNumberFormat{phonenumbers.E164, phonenumbers.INTERNATIONAL, phonenumbers.NATIONAL}
	rng := rand.New(rand.NewPCG(1, 2))
	readers := []string{"", "PE", "FR", "KR", "US", "GB", "AR", "IT", "RU", "DE", "MX", "BR", "JP", "IN"}
	checked, valid, fast := 0, 0, 0
	check := func(raw, region string) {
		t.Helper()
		want, wantOK := reference(raw, region)
		got, err := p.parse(raw, region) // in the region alone: Parse adds France's overseas
		if (err == nil) != wantOK || got != want {
			t.Errorf("Parse(%q, %q) = %q, %v; phonenumbers says %q, valid=%v", raw, region, got, err, want, wantOK)
		}
		checked++
		if !wantOK {
			return
		}
		valid++
		if d, plus, clean := normalize(raw); clean {
			if _, ok := p.fastParse(d, plus, region); ok {
				fast++
			}
		}
	}
	for _, region := range regions {
		for _, typ := range types {
			ex := phonenumbers.GetExampleNumberForType(region, typ)
			if ex == nil {
				continue
			}
			for _, f := range formats {
				raw := phonenumbers.Format(ex, f)
				for _, reader := range append([]string{region}, readers[rng.IntN(len(readers))]) {
					check(raw, reader)
					for range 3 {
						check(mutate(rng, raw), reader)
					}
				}
			}
		}
	}
	for range 20000 {
		check(randomDigits(rng), readers[rng.IntN(len(readers))])
	}
	t.Logf("%d numbers checked, %d valid, %d of those took the fast path", checked, valid, fast)
	if fast < valid/2 {
		t.Errorf("only %d of %d valid numbers took the fast path: the fast path has stopped working", fast, valid)
	}
}

func mutate(rng *rand.Rand, s string) string {
	b := []byte(s)
	for range 1 + rng.IntN(2) {
		i := rng.IntN(len(b))
		if b[i] >= '0' && b[i] <= '9' {
			b[i] = byte('0' + rng.IntN(10))
		}
	}
	switch rng.IntN(4) {
	case 0:
		return string(b[:len(b)-1])
	case 1:
		return string(b) + string(byte('0'+rng.IntN(10)))
	}
	return string(b)
}

func randomDigits(rng *rand.Rand) string {
	n := 5 + rng.IntN(11)
	b := make([]byte, 0, n+1)
	if rng.IntN(3) == 0 {
		b = append(b, '+')
	}
	for range n {
		b = append(b, byte('0'+rng.IntN(10)))
	}
	return string(b)
}

func TestParse_ReportsWhy(t *testing.T) {
	p, err := NewParser()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		raw, region string
		want        string
		wantErr     error
	}{
		{"987 654 321", "PE", "+51987654321", nil},
		{"+51 987-654-321", "", "+51987654321", nil},
		{"06 12 34 56 78", "FR", "+33612345678", nil},
		// France's overseas departments, dialled from France as written.
		{"0692 12 34 56", "FR", "+262692123456", nil},
		{"0690 12 34 56", "FR", "+590690123456", nil},
		{"0696 12 34 56", "FR", "+596696123456", nil},
		{"0694 20 12 34", "FR", "+594694201234", nil},
		{"0639 01 23 45", "FR", "+262639012345", nil},
		{"0692 12 34 56", "PE", "", ErrInvalid},
		{"010-1234-5678", "KR", "+821012345678", nil},
		{"(415) 555-2671", "US", "+14155552671", nil},
		{"0051 987 654 321", "FR", "+51987654321", nil},
		{"98765ABCD", "PE", "", ErrLetters},
		{"987 654 321", "", "", ErrNoRegion},
		{"12", "PE", "", ErrInvalid},
		{"+33 6 12 34 56 78 #12", "", "", ErrExtension},
	}
	for _, tt := range tests {
		got, err := p.Parse(tt.raw, tt.region)
		if got != tt.want || !errors.Is(err, tt.wantErr) {
			t.Errorf("Parse(%q, %q) = %q, %v; want %q, %v", tt.raw, tt.region, got, err, tt.want, tt.wantErr)
		}
	}
}

func BenchmarkParse(b *testing.B) {
	p, err := NewParser()
	if err != nil {
		b.Fatal(err)
	}
	nums := []struct{ raw, region string }{
		{"987 654 321", "PE"}, {"06 12 34 56 78", "FR"}, {"010-1234-5678", "KR"},
		{"(415) 555-2671", "US"}, {"+51987654321", "PE"},
	}
	b.Run("fast", func(b *testing.B) {
		for i := range b.N {
			n := nums[i%len(nums)]
			if _, err := p.Parse(n.raw, n.region); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("library", func(b *testing.B) {
		for i := range b.N {
			n := nums[i%len(nums)]
			if _, ok := reference(n.raw, n.region); !ok {
				b.Fatal(n)
			}
		}
	})
}

// TestParseQuick_NeverDisagreesWithParse: the quick reading is Parse's answer or nothing.
func TestParseQuick_NeverDisagreesWithParse(t *testing.T) {
	p, err := NewParser()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ raw, region, want string }{
		{"987 654 321", "PE", "+51987654321"},
		{"06 12 34 56 78", "FR", "+33612345678"},
		{"+51 987 654 321", "FR", "+51987654321"},
		{"(212) 234-5678", "PE", ""},
		{"010-1234-5678", "PE", ""},
		{"", "PE", ""},
		{"+", "PE", ""},
		{"abc", "PE", ""},
	} {
		got, ok := p.ParseQuick(c.raw, c.region)
		if got != c.want || ok != (c.want != "") {
			t.Errorf("ParseQuick(%q, %s) = %q, %v; want %q", c.raw, c.region, got, ok, c.want)
		}
		if ok {
			if full, err := p.Parse(c.raw, c.region); err != nil || full != got {
				t.Errorf("ParseQuick(%q, %s) = %q, Parse says %q, %v", c.raw, c.region, got, full, err)
			}
		}
	}
}
