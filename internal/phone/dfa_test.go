package phone

import (
	"math/rand/v2"
	"regexp"
	"testing"

	"github.com/nyaruka/phonenumbers"
)

// TestDigitDFA_AgreesWithRegexp holds every pattern of the metadata, as the parser compiles it,
// to the regexp's verdict on digit strings near the pattern's own lengths and on the library's
// example numbers, mutated.
func TestDigitDFA_AgreesWithRegexp(t *testing.T) {
	coll, err := phonenumbers.MetadataCollection()
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	patterns, built, matched := 0, 0, 0
	check := func(expr string, prefix bool, inputs []string) {
		t.Helper()
		re := regexp.MustCompile(expr)
		dfa, ok := compileDigitDFA(expr, prefix)
		patterns++
		if !ok {
			return
		}
		built++
		for _, s := range inputs {
			got, ok := dfa.match(s)
			if !ok {
				t.Fatalf("%s: match(%q) refused a string of digits", expr, s)
			}
			if want := re.MatchString(s); got != want {
				t.Fatalf("%s: match(%q) = %v, regexp says %v", expr, s, got, want)
			}
			if got {
				matched++
			}
		}
	}
	for _, m := range coll.GetMetadata() {
		var examples []string
		for _, d := range []*phonenumbers.PhoneNumberDesc{m.GetGeneralDesc(), m.GetMobile(), m.GetFixedLine(), m.GetTollFree(), m.GetVoip(),
			m.GetPremiumRate(), m.GetSharedCost(), m.GetPersonalNumber(), m.GetPager(), m.GetUan(), m.GetVoicemail()} {
			if ex := d.GetExampleNumber(); ex != "" {
				examples = append(examples, ex)
			}
		}
		inputs := func() []string {
			var in []string
			for _, ex := range examples {
				in = append(in, ex)
				for range 20 {
					in = append(in, mutateDigits(rng, ex))
				}
			}
			for range 200 {
				in = append(in, digitString(rng, 1+rng.IntN(17)))
			}
			return append(in, "")
		}
		for _, d := range []*phonenumbers.PhoneNumberDesc{m.GetGeneralDesc(), m.GetMobile(), m.GetFixedLine(), m.GetTollFree(), m.GetVoip(),
			m.GetPremiumRate(), m.GetSharedCost(), m.GetPersonalNumber(), m.GetPager(), m.GetUan(), m.GetVoicemail()} {
			if pat := d.GetNationalNumberPattern(); pat != "" {
				check("^(?:"+pat+")$", false, inputs())
			}
		}
		if ld := m.GetLeadingDigits(); ld != "" {
			check("^(?:"+ld+")", true, inputs())
		}
		if ip := m.GetInternationalPrefix(); ip != "" {
			check("^(?:"+ip+")", true, inputs())
		}
	}
	t.Logf("%d patterns, %d as automata, %d matches checked", patterns, built, matched)
	if built < patterns*9/10 {
		t.Errorf("only %d of %d patterns became automata", built, patterns)
	}
	if matched == 0 {
		t.Error("no input matched any pattern: the test checks nothing")
	}
}

func TestDigitDFA_LeavesOtherInputsToTheRegexp(t *testing.T) {
	p := newDigitPattern("^(?:9\\d{8})$", false)
	p.once.Do(p.compile)
	if p.dfa == nil {
		t.Fatal("no automaton")
	}
	if _, ok := p.dfa.match("98765432x"); ok {
		t.Error("the automaton gave a verdict on a string with a letter")
	}
	for s, want := range map[string]bool{"987654321": true, "98765432": false, "887654321": false, "98765432x": false} {
		if got := p.MatchString(s); got != want {
			t.Errorf("MatchString(%q) = %v, want %v", s, got, want)
		}
	}
	pre := newDigitPattern("^(?:00|011)", true)
	pre.once.Do(pre.compile)
	if pre.dfa == nil {
		t.Fatal("no automaton")
	}
	for s, want := range map[string]bool{"0051": true, "011x": true, "01": false, "1": false, "": false, "0x0": false} {
		if got := pre.MatchString(s); got != want {
			t.Errorf("prefix MatchString(%q) = %v, want %v", s, got, want)
		}
	}
}

func mutateDigits(rng *rand.Rand, s string) string {
	b := []byte(s)
	for range 1 + rng.IntN(3) {
		if len(b) > 0 {
			b[rng.IntN(len(b))] = byte('0' + rng.IntN(10))
		}
	}
	switch rng.IntN(4) {
	case 0:
		if len(b) > 0 {
			b = b[:len(b)-1]
		}
	case 1:
		b = append(b, byte('0'+rng.IntN(10)))
	}
	return string(b)
}

func digitString(rng *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('0' + rng.IntN(10))
	}
	return string(b)
}

func TestLiteralDigits(t *testing.T) {
	for pattern, want := range map[string]string{"0": "0", "1": "1", "00": "00", "(?:0)": "0", "0|180020": "", "0(8(?:[1-46-8]|5\\d\\d))?": "", "[01]": "", "a": "", "": ""} {
		if got := literalDigits(pattern); got != want {
			t.Errorf("literalDigits(%q) = %q, want %q", pattern, got, want)
		}
	}
}
