package phone

import (
	"slices"

	"github.com/nyaruka/phonenumbers"
)

// validity answers phonenumbers.IsValidNumber for a country calling code and a national
// significant number, with every pattern compiled once (on first use, into an automaton:
// dfa.go). The library rebuilds each pattern's string and takes a lock to find its compiled
// form on every call, and matches each pattern twice; at millions of numbers that was a third
// of the importer's time. The logic is the
// library's own (getNumberTypeHelper, getRegionCodeForNumberFromRegionList), and the
// differential test holds the two to the same answers.
type validity map[int32][]*regionRules

// regionRules are one region's number patterns.
type regionRules struct {
	general numberPattern
	types   []numberPattern
	// mobile and fixed are the mobile and fixed-line patterns (also in types), which tell a
	// landline (landline).
	mobile, fixed numberPattern
	// leadingDigits, when set, claims for this region the numbers of a shared calling code
	// that start with them (+1 684 is American Samoa, not the US).
	leadingDigits *digitPattern
}

// numberPattern is a compiled PhoneNumberDesc: the lengths it allows and its pattern.
type numberPattern struct {
	re      *digitPattern
	lengths []int32
}

func newValidity(coll *phonenumbers.PhoneMetadataCollection) (validity, error) {
	byRegion := map[string]*phonenumbers.PhoneMetadata{}
	nonGeo := map[int32]*phonenumbers.PhoneMetadata{}
	for _, m := range coll.GetMetadata() {
		if m.GetId() == "001" {
			nonGeo[m.GetCountryCode()] = m
		} else {
			byRegion[m.GetId()] = m
		}
	}
	v := validity{}
	for cc := range phonenumbers.GetSupportedCallingCodes() {
		for _, id := range phonenumbers.GetRegionCodesForCountryCode(cc) {
			m := byRegion[id]
			if id == "001" {
				m = nonGeo[int32(cc)]
			}
			if m == nil {
				continue
			}
			v[int32(cc)] = append(v[int32(cc)], compileRegion(m))
		}
	}
	return v, nil
}

// compileRegion returns a region's rules; their patterns are compiled on first use
// (TestDigitDFA_AgreesWithRegexp compiles every one of them).
func compileRegion(m *phonenumbers.PhoneMetadata) *regionRules {
	r := &regionRules{general: compileDesc(m.GetGeneralDesc()), mobile: compileDesc(m.GetMobile()), fixed: compileDesc(m.GetFixedLine())}
	// For validity any type's match will do, so the types customer lists are made of come
	// first: mobile, then fixed line (the library tests them last, after seven rarer ones).
	for _, p := range []numberPattern{r.mobile, r.fixed, compileDesc(m.GetTollFree()), compileDesc(m.GetVoip()),
		compileDesc(m.GetPremiumRate()), compileDesc(m.GetSharedCost()), compileDesc(m.GetPersonalNumber()),
		compileDesc(m.GetPager()), compileDesc(m.GetUan()), compileDesc(m.GetVoicemail())} {
		if p.re != nil {
			r.types = append(r.types, p)
		}
	}
	if ld := m.GetLeadingDigits(); ld != "" {
		r.leadingDigits = newDigitPattern("^(?:"+ld+")", true)
	}
	return r
}

func compileDesc(d *phonenumbers.PhoneNumberDesc) numberPattern {
	pat := d.GetNationalNumberPattern()
	if pat == "" {
		return numberPattern{} // matches no number, as "^(?:)$" matches none
	}
	return numberPattern{re: newDigitPattern("^(?:"+pat+")$", false), lengths: d.PossibleLength}
}

func (p numberPattern) matches(nsn string) bool {
	if p.re == nil || len(p.lengths) > 0 && !slices.Contains(p.lengths, int32(len(nsn))) {
		return false
	}
	return p.re.MatchString(nsn)
}

func (r *regionRules) valid(nsn string) bool {
	if !r.general.matches(nsn) {
		return false
	}
	for _, t := range r.types {
		if t.matches(nsn) {
			return true
		}
	}
	return false
}

// landline reports whether nsn, a valid number in calling code cc, is a fixed line and no
// mobile: it matches its region's fixed-line pattern and not the mobile one. Where the two
// patterns are one (the US, Canada: a number may be either), no number is a landline.
func (v validity) landline(cc int32, nsn string) bool {
	r := v.region(cc, nsn)
	return r != nil && r.mobile.re != nil && r.fixed.matches(nsn) && !r.mobile.matches(nsn)
}

// valid reports whether nsn is a valid number in calling code cc.
func (v validity) valid(cc int32, nsn string) bool { return v.region(cc, nsn) != nil }

// region returns the region of calling code cc whose rules make nsn a valid number, or nil: the
// one its leading digits claim it for (+1 684 is American Samoa), else the first it is valid in.
func (v validity) region(cc int32, nsn string) *regionRules {
	regions := v[cc]
	if len(regions) == 1 {
		if regions[0].valid(nsn) {
			return regions[0]
		}
		return nil
	}
	for _, r := range regions {
		switch {
		case r.leadingDigits != nil && r.leadingDigits.MatchString(nsn):
			if r.valid(nsn) {
				return r
			}
			return nil
		case r.leadingDigits == nil && r.valid(nsn):
			return r
		}
	}
	return nil
}
