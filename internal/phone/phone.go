// Package phone parses the phone numbers of customer lists into E.164 with
// github.com/nyaruka/phonenumbers, the Go port of Google's libphonenumber.
//
// Why not just call phonenumbers.Parse: it costs ~16 µs a number on the development machine,
// almost half of it in an end-anchored regular expression looking for extensions ("ext. 12"),
// which breach lists never contain and which we refuse anyway (an extension cannot receive an
// SMS). At millions of rows that one regex would cap the importer below its target. So Parser
// first tries a fast path that uses the library's own metadata and its own IsValidNumber, and
// accepts a result only in the cases where phonenumbers.Parse is known to return the same
// number (see fastParse); in every other case it calls phonenumbers.Parse. phone_test.go checks
// the equivalence against phonenumbers.Parse for every region the library knows.
package phone

import (
	"errors"
	"fmt"
	"regexp"
	"regexp/syntax"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"
)

// Parser turns phone numbers as people write them into E.164. It is safe for concurrent use;
// build one with NewParser and share it (building it compiles per-region patterns).
type Parser struct {
	regions map[string]*region // by region code ("PE")
	byCode  map[int32]*region  // main region of each country calling code
	valid   validity
}

// region is what the fast path needs of one region's metadata.
type region struct {
	code int32
	// nationalPrefix matches the national (trunk) prefix, and any carrier code, at the start of
	// a nationally written number; nil when the region has none.
	nationalPrefix *regexp.Regexp
	// literalPrefix is nationalPrefix's pattern when it is a plain string of digits ("0" in
	// most countries, "1" in the US): a prefix test instead of a regexp search.
	literalPrefix string
	// idd matches the international dialling prefix ("00", "011") at the start of a number.
	idd *digitPattern
	// fast is false for regions whose prefix handling the fast path does not reproduce (a
	// prefix transform rule, as in Argentina); their numbers always go to phonenumbers.Parse.
	fast bool
}

// NewParser loads the library's metadata for every region.
func NewParser() (*Parser, error) {
	coll, err := phonenumbers.MetadataCollection()
	if err != nil {
		return nil, fmt.Errorf("phone: load metadata: %w", err)
	}
	valid, err := newValidity(coll)
	if err != nil {
		return nil, err
	}
	p := &Parser{regions: map[string]*region{}, byCode: map[int32]*region{}, valid: valid}
	for _, m := range coll.GetMetadata() {
		r := &region{code: m.GetCountryCode(), fast: m.GetNationalPrefixTransformRule() == ""}
		if npp := m.GetNationalPrefixForParsing(); npp != "" {
			if r.nationalPrefix, err = regexp.Compile("^(?:" + npp + ")"); err != nil {
				r.fast = false
			}
			r.literalPrefix = literalDigits(npp)
		}
		if ip := m.GetInternationalPrefix(); ip != "" {
			r.idd = newDigitPattern("^(?:"+ip+")", true)
		}
		id := m.GetId()
		p.regions[id] = r
		if phonenumbers.GetRegionCodeForCountryCode(int(r.code)) == id {
			p.byCode[r.code] = r
		}
	}
	return p, nil
}

// literalDigits returns pattern when it matches exactly one string, made of digits, and ""
// otherwise.
func literalDigits(pattern string) string {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return ""
	}
	re = re.Simplify()
	if re.Op != syntax.OpLiteral || re.Flags&syntax.FoldCase != 0 {
		return ""
	}
	for _, r := range re.Rune {
		if r < '0' || r > '9' {
			return ""
		}
	}
	return string(re.Rune)
}

// Errors that say why a number was refused, in words an operator can act on.
var (
	ErrLetters   = errors.New("contains letters")
	ErrExtension = errors.New("has an extension, which cannot receive an SMS")
	ErrInvalid   = errors.New("is not a valid phone number")
	ErrNoRegion  = errors.New("has no country code (+…) and the customer has no country")
)

// Parse returns raw in E.164 form ("+51987654321"). defaultRegion (an ISO 3166-1 alpha-2 code)
// says how to read a number written without its country code; it may be empty when the number
// starts with '+'.
//
// A number written nationally that is no number of France is tried in the overseas
// departments and collectivities numbered in France's plan (Réunion's 0692…, Guadeloupe's
// 0690…): French lists give their customers the country FR, and from France they are dialled
// as written — refused, every overseas customer of a French operator was left out.
func (p *Parser) Parse(raw, defaultRegion string) (string, error) {
	e164, err := p.parse(raw, defaultRegion)
	if err == ErrInvalid && defaultRegion == "FR" {
		if digits, plus, _ := normalize(raw); !plus && len(digits) == 10 && digits[0] == '0' {
			for _, r := range frenchOverseas {
				if n, err2 := p.parse(raw, r); err2 == nil {
					return n, nil
				}
			}
		}
	}
	return e164, err
}

// frenchOverseas are the regions numbered in France's plan, ten digits from France as its own
// numbers are, with their own country codes (+262, +590, +594, +596).
var frenchOverseas = []string{"RE", "YT", "GP", "BL", "MF", "MQ", "GF"}

// parse is Parse in defaultRegion alone.
func (p *Parser) parse(raw, defaultRegion string) (string, error) {
	digits, plus, clean := normalize(raw)
	if !clean {
		if hasLetter(raw) {
			return "", ErrLetters
		}
		return p.slowParse(raw, defaultRegion)
	}
	if e164, ok := p.fastParse(digits, plus, defaultRegion); ok {
		return e164, nil
	}
	return p.slowParse(raw, defaultRegion)
}

// ParseQuick is Parse, answered by the fast path where the fast path can answer: a number
// written as digits in a region the fast path knows is valid there when it finds it valid,
// and invalid otherwise (it may miss a valid number that only Parse's national-prefix
// handling reads); anything else — a region the fast path does not cover (BR, AR, JP…),
// full-width digits, punctuation it does not know — goes to Parse. For a second reading of a
// number already read in another region, which on a list of a million rows must not cost
// phonenumbers.Parse each.
func (p *Parser) ParseQuick(raw, defaultRegion string) (string, bool) {
	digits, plus, clean := normalize(raw)
	if r := p.regions[defaultRegion]; !clean || digits == "" || plus || r == nil || !r.fast {
		e164, err := p.Parse(raw, defaultRegion)
		return e164, err == nil
	}
	return p.fastParse(digits, plus, defaultRegion)
}

// fastParse handles a number given as digits (after an optional '+'). It returns ok only when
// phonenumbers.Parse would return the same number and IsValidNumber would accept it:
//
//   - With '+', the country calling code is the first 1–3 digits that are a calling code (the
//     codes are prefix-free, and Parse tries them in the same order); otherwise it is the
//     default region's, unless the number starts with that region's international prefix, which
//     only Parse handles.
//   - Parse then removes a national prefix (the region's national_prefix_for_parsing, matched
//     at the start) when the number without it is still viable. If the prefix matches and the
//     rest is a valid number, Parse strips it, and so do we. If it does not match, Parse keeps
//     the number as it is, and so do we when that is valid. Any other case (prefix matches but
//     the rest is invalid, nothing valid at all) goes to Parse for its verdict.
//   - A national number with a leading zero (Italy) needs Parse's leading-zero bookkeeping.
//   - A number written nationally but starting with its own country code (51987654321 in Peru)
//     is extracted by Parse only when the whole is not a viable national number; we accept the
//     whole only when it is valid, hence viable, so the two agree.
func (p *Parser) fastParse(digits string, plus bool, defaultRegion string) (string, bool) {
	var r *region
	national := digits
	if plus {
		if digits[0] == '0' { // no calling code starts with 0; Parse's verdict on these is its own
			return "", false
		}
		for n := 1; n <= 3 && n < len(digits); n++ {
			cc, _ := strconv.Atoi(digits[:n])
			if reg, ok := p.byCode[int32(cc)]; ok {
				r, national = reg, digits[n:]
				break
			}
		}
	} else {
		r = p.regions[defaultRegion]
		if r != nil && r.idd != nil && r.idd.MatchString(digits) {
			return "", false
		}
	}
	if r == nil || !r.fast {
		return "", false
	}
	if r.literalPrefix != "" {
		if strings.HasPrefix(national, r.literalPrefix) {
			return p.validE164(r.code, national[len(r.literalPrefix):])
		}
	} else if r.nationalPrefix != nil {
		if m := r.nationalPrefix.FindStringIndex(national); m != nil {
			return p.validE164(r.code, national[m[1]:])
		}
	}
	return p.validE164(r.code, national)
}

// Landline reports whether e164, a number Parse returned, is a fixed line only: an SMS cannot
// reach it (the providers refuse it, as Twilio's error 21614 says), and a customer whose only
// contact it is would not be told. It is false for a mobile, a number that may be either (the
// US's), and anything it cannot read.
func (p *Parser) Landline(e164 string) bool {
	digits, ok := strings.CutPrefix(e164, "+")
	if !ok {
		return false
	}
	for n := 1; n <= 3 && n < len(digits); n++ {
		cc, _ := strconv.Atoi(digits[:n])
		if _, known := p.valid[int32(cc)]; known {
			return p.valid.landline(int32(cc), digits[n:])
		}
	}
	return false
}

// validE164 returns the E.164 form of the national significant number nsn in country code cc,
// if it is a valid number.
func (p *Parser) validE164(cc int32, nsn string) (string, bool) {
	if len(nsn) < 2 || len(nsn) > 17 || nsn[0] == '0' || !p.valid.valid(cc, nsn) {
		return "", false
	}
	return "+" + strconv.Itoa(int(cc)) + nsn, true
}

// slowParse is phonenumbers.Parse with our validity rules.
func (p *Parser) slowParse(raw, defaultRegion string) (string, error) {
	num, err := phonenumbers.Parse(raw, defaultRegion)
	switch {
	case errors.Is(err, phonenumbers.ErrInvalidCountryCode) && defaultRegion == "" && !strings.Contains(raw, "+"):
		return "", ErrNoRegion
	case err != nil:
		return "", ErrInvalid
	case num.GetExtension() != "":
		return "", ErrExtension
	case !phonenumbers.IsValidNumber(num):
		return "", ErrInvalid
	}
	return phonenumbers.Format(num, phonenumbers.E164), nil
}

// normalize strips the separators people put in phone numbers. clean is false when raw holds
// anything but digits, separators and one leading '+'.
func normalize(raw string) (digits string, plus, clean bool) {
	var b [32]byte
	buf := b[:0]
	for i := 0; i < len(raw); {
		c := raw[i]
		switch {
		case c >= '0' && c <= '9':
			buf = append(buf, c)
		case c == ' ' || c == '-' || c == '.' || c == '(' || c == ')' || c == '/' || c == '\t':
		case c == '+' && len(buf) == 0 && !plus:
			plus = true
		case c >= utf8.RuneSelf:
			r, size := utf8.DecodeRuneInString(raw[i:])
			if r != '\u00a0' && r != '\u2010' && r != '\u2011' && r != '\u2013' && r != '\u2014' && r != '\u202f' {
				return "", false, false
			}
			i += size
			continue
		default:
			return "", false, false
		}
		i++
	}
	if len(buf) == 0 {
		return "", false, false
	}
	return string(buf), plus, true
}

func hasLetter(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool {
		return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
	}) >= 0
}
