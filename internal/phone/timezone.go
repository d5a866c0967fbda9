package phone

import (
	"strconv"
	"strings"
	"sync"
	"time"
	// The zone database inside the binary: the container image has none, and quiet hours
	// must not change with the host.
	_ "time/tzdata"

	"github.com/nyaruka/phonenumbers"
)

// Zones finds where a customer's phone rings: the time zones of an E.164 number, from
// libphonenumber's prefix-to-zone map (a mobile number's zone is its region's; a US number's
// is its area code's). It is safe for concurrent use; the zero value is ready.
type Zones struct {
	mu  sync.Mutex
	loc map[string]*time.Location
}

// For returns the candidate zones of a customer: those of their number's longest known prefix
// (several when the prefix spans zones: the caller treats a moment as night if it is night in
// any), else those of their country (ISO 3166-1 alpha-2; all of its calling code's zones), else
// none. Names the zone database does not know are left out.
func (z *Zones) For(e164, country string) []*time.Location {
	if e164 != "" {
		if zs := z.forPrefix(e164); len(zs) > 0 {
			return zs
		}
	}
	if cc := phonenumbers.GetCountryCodeForRegion(strings.ToUpper(country)); cc != 0 {
		return z.forPrefix(strconv.Itoa(cc))
	}
	return nil
}

// forPrefix is the zones of a number or calling code, without the unknown zone.
func (z *Zones) forPrefix(number string) []*time.Location {
	names, err := phonenumbers.GetTimezonesForPrefix(number)
	if err != nil {
		return nil
	}
	var out []*time.Location
	for _, n := range names {
		if n == phonenumbers.UNKNOWN_TIMEZONE {
			continue
		}
		if l := z.location(n); l != nil {
			out = append(out, l)
		}
	}
	return out
}

// location loads a zone once.
func (z *Zones) location(name string) *time.Location {
	z.mu.Lock()
	defer z.mu.Unlock()
	if l, ok := z.loc[name]; ok {
		return l
	}
	l, err := time.LoadLocation(name)
	if err != nil {
		l = nil
	}
	if z.loc == nil {
		z.loc = map[string]*time.Location{}
	}
	z.loc[name] = l
	return l
}
