package importer

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/phone"
	"github.com/breachnotice/breachnotice/internal/plaintext"
)

// maxCustomerID is the longest customer_id, in characters; names are cut at plaintext.MaxName, and
// attributes are bounded by MaxFieldBytes.
const maxCustomerID = 128

// validator turns a record into a recipient or a reject. It holds no mutable state, so the
// importer's workers share one; each worker brings its own parseCache.
type validator struct {
	cols           columns
	phones         *phone.Parser
	defaultCountry string
	// stateCodesAreUS: a US state code on a row without a country is that state's
	// (breach.StateCodesAreUS).
	stateCodesAreUS bool
	// defaultExposed is the campaign's default categories, given to a customer whose row names
	// none: resolved here, so that each recipient's record says what their notice said and a
	// later row's categories add to the default rather than replace it.
	defaultExposed breach.Categories
	// maxAttributes is the most attributes a row can have: one per attribute column, plus
	// the city, region and postal code of a row without an address line, and the state.
	maxAttributes int
}

// parseCache remembers how a worker read the values that repeat on nearly every row (locales,
// countries, exposed categories): parsing a BCP 47 tag costs a microsecond, a map lookup a few
// nanoseconds. It keeps values of at most maxCachedLen bytes and stops growing at maxCached
// entries, so a list of unique junk cannot make it grow past a megabyte.
type parseCache struct {
	locales   map[string]parsed[string]
	countries map[string]parsed[string]
	exposed   map[string]parsed[breach.Categories]
	// countryLocales are the languages of capitalised country codes in the language column
	// (countryLocale), asked on every such row.
	countryLocales map[string]parsed[string]
	// attrs is the memory the worker's rows' attributes are appended into.
	attrs attrArena
}

// attrArena gives the rows of a worker's batch their attribute slices (ImportRow.Extra) out of
// shared chunks, so that a row's attributes cost no allocation of their own: a row appends to
// the empty slice next returns, over the chunk's free space, and keep takes what it appended
// out of the free space. A rejected row leaves the space as it was.
//
// A chunk serves one batch (reset): the attributes' values point into their rows' text, so a
// chunk that outlived its batch would keep the batch's rows alive, megabytes each at worst.
type attrArena struct{ free []breach.Attribute }

// attrChunk is the size of a chunk of attributes: 32 KiB, a batch's worth of one or two a row.
const attrChunk = 1024

// reset starts a new batch: its rows' attributes are kept apart from the last batch's.
func (a *attrArena) reset() { a.free = nil }

// next returns an empty slice for a row of at most most attributes, with room for them all.
func (a *attrArena) next(most int) []breach.Attribute {
	if most == 0 {
		return nil
	}
	if cap(a.free) < most {
		a.free = make([]breach.Attribute, 0, max(attrChunk, 2*most))
	}
	return a.free[:0]
}

// keep returns attrs, the row's attributes appended to next's slice, capped at their length
// (an append to them can never write over the next row's), and takes them out of the free
// space if they are in it; nil for none.
func (a *attrArena) keep(attrs []breach.Attribute) []breach.Attribute {
	n := len(attrs)
	if n == 0 {
		return nil
	}
	if cap(attrs) == cap(a.free) && &attrs[0] == &a.free[:1][0] {
		a.free = a.free[n:cap(a.free)]
	}
	return attrs[:n:n]
}

// parsed is a value as a parse function read it.
type parsed[V any] struct {
	value V
	err   error
}

const maxCached = 1024

// maxCachedLen is the longest value a parseCache keeps: real locales, countries and category
// lists are a few dozen bytes, and 1,024 cached values of 64 KiB junk each, per map and per
// worker, were hundreds of megabytes.
const maxCachedLen = 256

func newParseCache() *parseCache {
	return &parseCache{locales: map[string]parsed[string]{}, countries: map[string]parsed[string]{},
		exposed: map[string]parsed[breach.Categories]{}, countryLocales: map[string]parsed[string]{}}
}

// lookup returns parse(raw), remembered in m.
func lookup[V any](m map[string]parsed[V], raw string, parse func(string) (V, error)) (V, error) {
	if p, ok := m[raw]; ok {
		return p.value, p.err
	}
	v, err := parse(raw)
	if len(m) < maxCached && len(raw) <= maxCachedLen {
		// A clone: raw shares its row's memory, which the key would keep alive.
		m[strings.Clone(raw)] = parsed[V]{v, err}
	}
	return v, err
}

// rowError collects the problems of one row, so the reject names them all.
type rowError struct {
	field    string
	problems []string
}

// addAll adds o's problems to e's.
func (e *rowError) addAll(o *rowError) {
	if e.field == "" {
		e.field = o.field
	}
	e.problems = append(e.problems, o.problems...)
}

func (e *rowError) add(field, format string, args ...any) {
	if e.field == "" {
		e.field = field
	}
	e.problems = append(e.problems, field+": "+fmt.Sprintf(format, args...))
}

// row validates and normalizes one record into r, or returns why it is rejected. r is the
// caller's (a slot of its batch), so that a valid row costs no allocation of its own. warn is
// set when the row is valid but one of its values was neutralised (its name).
func (v *validator) row(rec record, cache *parseCache, r *breach.ImportRow) (*breach.Reject, []breach.Warning) {
	if rec.problem != "" {
		return v.reject(rec, v.columnField(rec.problemColumn), rec.problem), nil
	}
	if len(rec.fields) != len(v.cols.kind) {
		if allEmpty(rec.fields) {
			return v.reject(rec, "", "row is empty"), nil
		}
		reason := fmt.Sprintf("row has %d fields, the header has %d", len(rec.fields), len(v.cols.kind))
		switch {
		case slices.ContainsFunc(rec.fields, func(f string) bool { return strings.IndexByte(f, '\r') >= 0 }):
			// Two lists glued together, one from a Mac: a bare CR between two customers' rows
			// reads as one line here, and the second customer was named nowhere.
			reason += ": the line holds a carriage return (a line break of old Mac files), and may be two customers' rows run together — break the line there and import it again"
		case len(rec.fields) < len(v.cols.kind):
			// Not read as if the missing fields were empty: Excel leaves out the separators of
			// trailing empty cells in some of the CSV files it saves (KB 77295), but a row whose
			// columns slipped looks the same, and read so, its exposed categories became the
			// greeting and the default categories its notice (the review's). Said, so that
			// the list can be mended either way.
			reason += ": if the missing ones are empty cells at the end of the row (Excel leaves out their separators in some files), add the separators and import the list again; if the row's values are in the wrong columns, fix the row"
		}
		return v.reject(rec, "", reason), nil
	}
	if allEmpty(rec.fields) {
		return v.reject(rec, "", "row is empty"), nil
	}
	var errs rowError
	*r = breach.ImportRow{Line: rec.line, Extra: cache.attrs.next(v.maxAttributes)}
	get := func(f field) string {
		i := v.cols.index[f]
		if i < 0 {
			return ""
		}
		// The exposed categories may be one a line, as Excel's Alt+Enter writes a list in a
		// cell: the row was refused for the line break, and its customer never told.
		s := cleanValue(f.String(), rec.fields[i], f == fieldExposed || f == fieldPhone, &errs)
		if blankIfPlaceholder[f] && isNullPlaceholder(s) {
			return ""
		}
		return s
	}

	r.CustomerID = get(fieldCustomerID)
	switch {
	case r.CustomerID == "" && len(errs.problems) > 0:
		// cleanValue refused it (a control character, invalid UTF-8) and said why: the
		// reject names the customer by the ID as written, made printable.
		r.CustomerID = breach.Clip(plaintext.ReplaceControls(strings.ToValidUTF8(v.raw(rec, fieldCustomerID), "?"), '?'))
	case r.CustomerID == "":
		errs.add("customer_id", "is empty")
	case utf8.RuneCountInString(r.CustomerID) > maxCustomerID:
		errs.add("customer_id", "is longer than %d characters", maxCustomerID)
	case isNullPlaceholder(r.CustomerID) || isSpreadsheetError(r.CustomerID):
		// A failed VLOOKUP leaves #N/A in every row it could not match: read as an ID, all of
		// them were folded into one customer, the last row's contacts kept.
		errs.add("customer_id", "%q stands for a missing value (or is a spreadsheet error), not a customer's ID: every row with it would be taken for one customer; give each row its customer's ID", r.CustomerID)
	case strings.ContainsFunc(r.CustomerID, oddSpace):
		// Like a soft hyphen (refused by cleanValue): C 1 with a no-break space and with a
		// space look alike and may be one record or two; a guess either way risks a notice.
		c := []rune(r.CustomerID)[slices.IndexFunc([]rune(r.CustomerID), oddSpace)]
		errs.add("customer_id", "holds the space %U, which looks like an ordinary space: write the ID with ordinary spaces (or none), as the list's other rows do", c)
	case strings.IndexByte(r.CustomerID, '+') > 0 && excelNumber.MatchString(r.CustomerID):
		// Customers whose IDs the spreadsheet rounded alike would be merged into one.
		errs.add("customer_id", "%q is a number mangled by a spreadsheet (scientific notation): customers whose IDs it rounded alike would be taken for one; export the column as text", r.CustomerID)
	case mayBeExcelDate(r.CustomerID) && excelDate.MatchString(r.CustomerID):
		// 3-15 and 03-15, two customers, were both 15-Mar, and one customer: one was never
		// told, the other told of the first's password.
		errs.add("customer_id", "%q is a date a spreadsheet made of an ID (Excel turns IDs such as 3-15 into 15-Mar): customers whose IDs became the same date would be taken for one; format the column as text and export the list again from the source", r.CustomerID)
	case excelRounded(r.CustomerID):
		// An ICCID of 19 digits saved by Excel keeps 15 and zeros: eight prepaid customers
		// were two, six never told. A workbook's number cell is refused alike (sheet.go).
		errs.add("customer_id", "%q looks like a number of more than 15 digits that a spreadsheet rounded (Excel keeps 15 and writes zeros for the rest): customers whose IDs differ only in those digits would be taken for one; format the column as text and export the list again from the source", r.CustomerID)
	}

	// A value that cannot be read in a column only a weak alias names ("Mobile Phone",
	// "Preferred Language") costs the customer that value, with a warning, not their row:
	// before it was an alias, the column was an attribute and the customer imported.
	var softWarnings []breach.Warning
	soft := func(f field, reason string) {
		softWarnings = append(softWarnings, breach.Warning{Line: rec.line, Field: f.String(),
			Reason: fmt.Sprintf("%s: left out (the column %q is read as the %s only because no other column is)", reason, v.cols.names[v.cols.index[f]], f)})
	}
	numericCountry := false // the country cell held a number: see the phone
	if country := get(fieldCountry); country != "" {
		cc, err := lookup(cache.countries, country, breach.ParseCountry)
		switch {
		case errors.Is(err, breach.ErrCountryNumber):
			// A dialling code or an ISO numeric code (breach.ParseCountry): which country is
			// not known, and the row's other values may be good: the country is left out, and
			// a phone written without its country code with it.
			numericCountry = true
			softWarnings = append(softWarnings, breach.Warning{Line: rec.line, Field: "country",
				Reason: err.Error() + ": left out"})
		case err != nil && v.cols.weak[fieldCountry]:
			soft(fieldCountry, err.Error())
		case err != nil:
			errs.add("country", "%v", err)
		}
		r.Country = cc
	}
	if raw := get(fieldEmail); raw != "" {
		email, err := breach.ParseEmail(raw)
		switch {
		case err != nil && v.cols.weak[fieldEmail]:
			soft(fieldEmail, err.Error())
			email = ""
		case err != nil:
			errs.add("email", "%v", err)
		}
		r.Email = email
	}
	if raw := get(fieldPhone); raw != "" {
		var perrs rowError
		switch {
		case numericCountry && !internationalPhone(raw):
			// The country column held a number (a dialling code, or ISO's numeric code): which
			// country a number written without its country code is of is not known, and read
			// in the campaign's, a Chilean's 912345678 was a Peruvian stranger's.
			perrs.add("phone", "%q has no country code, and the row's country is a number, not a country: write the phone with its country code (+56…), or the country as its two-letter code", breach.Clip(raw))
		default:
			r.Phone = v.phone(raw, r.Country, &perrs)
		}
		if len(perrs.problems) > 0 && !numericCountry {
			if parts := splitPhones(raw); len(parts) > 1 {
				// "987654321, 912345678": refused as a number "with an extension", the
				// customer's row was lost with two good numbers. When every part is a number,
				// one is the customer's phone — a mobile before a landline — and it is said.
				if chosen, e164 := v.severalPhones(parts, r.Country); chosen != "" {
					raw, r.Phone, perrs = chosen, e164, rowError{}
					softWarnings = append(softWarnings, breach.Warning{Line: rec.line, Field: "phone",
						Reason: fmt.Sprintf("holds %d phone numbers: one is used (a mobile, if one is); give the others a column of their own if they matter", len(parts))})
				}
			}
		}
		switch {
		case len(perrs.problems) > 0 && v.cols.weak[fieldPhone]:
			soft(fieldPhone, strings.Join(perrs.problems, "; "))
		case len(perrs.problems) > 0 && numericCountry && (r.Email != "" || v.hasAddress()):
			// Only the phone is in doubt: the customer is told by their other channels.
			softWarnings = append(softWarnings, breach.Warning{Line: rec.line, Field: "phone",
				Reason: strings.TrimPrefix(perrs.problems[0], "phone: ") + ": left out; the customer is told by their other channels"})
		case len(perrs.problems) > 0:
			errs.addAll(&perrs)
		}
		if why := v.ambiguousPhone(raw, r.Country, r.Phone); why != "" {
			r.Phone = ""
			if r.Email == "" && !v.hasAddress() {
				errs.add("phone", "%s", why)
			} else {
				softWarnings = append(softWarnings, breach.Warning{Line: rec.line, Field: "phone", Reason: why + "; the customer is told by their other channels"})
			}
		}
	}
	var addressWarning string
	if v.hasAddress() {
		addressWarning = v.address(rec, r, get, &errs)
	}
	if r.Email == "" && r.Phone == "" && r.Postal.IsZero() && len(errs.problems) == 0 {
		if v.hasAddress() {
			errs.add("email", breach.NoContactReason+" (an address needs its address_line1)")
		} else {
			errs.add("email", breach.NoContactReason)
		}
	}
	if r.Phone != "" && r.Email == "" && r.Postal.IsZero() && v.phones.Landline(r.Phone) {
		// Imported, the customer's SMS would fail at the provider (a landline receives none),
		// and they would be counted among those no channel reached, days later: said now,
		// while their email or address can still be found.
		softWarnings = append(softWarnings, breach.Warning{Line: rec.line, Field: "phone",
			Reason: "the customer's only contact is a landline, which an SMS cannot reach: they may not be told — add an email or postal address for them"})
	}

	// A name never rejects a row (see plaintext.Name): it is read without cleanValue's checks.
	// A part that stands for a missing value is left out: "Estimado/a Ana NULL", "Dear \N".
	var placeholder string
	namePart := func(f field) string {
		s := v.raw(rec, f)
		if isNamePlaceholder(s) {
			placeholder = s
			return ""
		}
		return s
	}
	name := namePart(fieldName)
	if name == "" {
		name = fullName(namePart(fieldFirstName), namePart(fieldLastName))
	}
	var nameWarning string
	r.Name, nameWarning = plaintext.Name(name)
	if placeholder != "" && nameWarning == "" {
		nameWarning = fmt.Sprintf("%q stands for a missing value (an export's NULL), not a name: left out", breach.Clip(placeholder))
		if r.Name == "" {
			nameWarning += "; the notice greets the customer without a name"
		}
	}

	if raw := get(fieldLocale); raw != "" {
		tag, err := lookup(cache.locales, raw, breach.ParseLocale)
		switch {
		case err != nil && v.cols.weak[fieldLocale]:
			soft(fieldLocale, err.Error()) // the campaign's default language, then
		case err != nil:
			errs.add("locale", "%v", err)
		case len(raw) == 2 && strings.HasSuffix(tag, "-"+raw):
			// A country's code that is no language (breach.ParseLocale): said.
			softWarnings = append(softWarnings, breach.Warning{Line: rec.line, Field: "locale",
				Reason: fmt.Sprintf("%q is read as the country's code, and the notice's language as its language (%s): write the language's code if another is meant", raw, tag)})
		case len(raw) == 2 && tag == strings.ToLower(raw):
			// A capitalised code that is a language and a country: BR is Breton and Brazil (a
			// Brazilian got a French notice: Breton matched the offered French), SV Swedish and
			// El Salvador. The row's country decides: the same code, the country's language; no
			// country, the language, said; another country, the language (a Swede in Sweden).
			if loc, _ := lookup(cache.countryLocales, raw, countryLocale); loc != "" {
				switch r.Country {
				case raw:
					tag = loc
					softWarnings = append(softWarnings, breach.Warning{Line: rec.line, Field: "locale",
						Reason: fmt.Sprintf("%q, the customer's country too, is read as the country's language (%s), not as the language %s: write the language's code if that is meant", raw, loc, strings.ToLower(raw))})
				case "":
					softWarnings = append(softWarnings, breach.Warning{Line: rec.line, Field: "locale",
						Reason: fmt.Sprintf("%q is read as the language %s; if it is the customer's country, the language would be %s: give the country, or write the language's code", raw, strings.ToLower(raw), loc)})
				}
			}
		case noLanguage(tag):
			// und, zxx, mul, mis say no language is known: as an empty cell, the notice's
			// language then comes from the country — said, not silently.
			softWarnings = append(softWarnings, breach.Warning{Line: rec.line, Field: "locale",
				Reason: fmt.Sprintf("%q names no language: the notice's language is chosen from the country, as for an empty cell", tag)})
			tag = ""
		}
		r.Locale = tag
	}
	if raw := get(fieldExposed); raw != "" {
		set, err := lookup(cache.exposed, raw, breach.ParseCategories)
		switch {
		case isNullPlaceholder(raw):
			// "None", "-", "N/A": nothing exposed, or nothing known — not the campaign's
			// default, which a notice would then claim (national ID…) of someone who wrote none.
			errs.add("exposed", "%q names no category: write the categories exposed for this customer, or leave the cell empty to give them the campaign's default ones", raw)
		case err != nil:
			errs.add("exposed", "%v", err)
		case set == 0:
			// "|" or a TEXTJOIN of empty cells: as an empty cell, but said.
			softWarnings = append(softWarnings, breach.Warning{Line: rec.line, Field: "exposed",
				Reason: "names no category, only separators: the customer is given the campaign's default categories, as for an empty cell"})
		}
		r.Exposed = set
	}
	if r.Exposed == 0 && v.cols.index[fieldExposed] < 0 {
		// No exposed column: every customer gets the campaign's default. With one, an empty
		// cell stays 0 and the store gives the default to the customers none of whose rows
		// named categories (breach.Import.DefaultExposed): a default united with another row's
		// explicit categories would tell the customer of data the list says was not theirs.
		r.Exposed = v.defaultExposed
	}
	var jurisdictionWarning, stateWarning string
	r.Jurisdiction, jurisdictionWarning, stateWarning = v.jurisdiction(get(fieldJurisdiction), get(fieldState), r)
	v.attributes(rec, r, &errs)

	if len(errs.problems) > 0 {
		return &breach.Reject{Line: rec.line, CustomerID: r.CustomerID, Field: errs.field, Reason: strings.Join(errs.problems, "; ")}, nil
	}
	r.Extra = cache.attrs.keep(r.Extra)
	// Every value neutralised on the way is listed, in the row's column order of importance:
	// the name (it decides the greeting), the address's region, the state, a hidden row.
	var warns []breach.Warning
	warn := func(field, reason string) {
		if reason != "" {
			warns = append(warns, breach.Warning{Line: rec.line, Field: field, Reason: reason})
		}
	}
	warns = append(warns, softWarnings...)
	warn("customer_id", decomposedIDWarning(r.CustomerID))
	warn("customer_id", floatIDWarning(r.CustomerID))
	warn("name", nameWarning)
	warn("region", addressWarning)
	warn("jurisdiction", jurisdictionWarning)
	warn("state", stateWarning)
	if rec.rereadAfter > 0 {
		// The quote opened on that line never closed where a field ends: its lines were read
		// again as rows, which a stray quote's swallowed customers are — and also the lines of
		// a real note badly quoted, whose phone would get a breach notice.
		warn(quoteField, fmt.Sprintf("read as a row of its own after the quote opened on line %d did not close where a field ends: check that this is a customer of the list, not a line of that row's field", rec.rereadAfter))
	}
	if rec.rowLike > 0 {
		// A stray quote may have swallowed the rows after it (see recordReader.rowsInside).
		warn(quoteField, fmt.Sprintf("a quoted field runs from this line over line %d, which reads as a row of its own: if a stray quote (an inch mark, a nickname) swallowed the rows after this one, those customers are not on the list — fix the quote and import the list again", rec.rowLike))
	}
	if rec.hidden {
		// A list filtered in Excel keeps the rows it hides: whoever filtered it may believe
		// they are not on it.
		warn("row", "the row is hidden in the workbook (filtered out, or hidden): it is imported like any other; if it should not be on the list, delete it and import the list again")
	}
	return nil, warns
}

// countryLocale is breach.CountryLocale for lookup: "" for a code that is no country's.
func countryLocale(code string) (string, error) {
	loc, _ := breach.CountryLocale(code)
	return loc, nil
}

// floatIDWarning warns of a customer_id written as a program writes a number as a float
// (1001.0: pandas, as soon as the column has an empty cell): kept as written, it is another
// customer than the 1001 an earlier list gave, and both are sent a notice (a review).
func floatIDWarning(id string) string {
	if len(id) < 3 || !strings.HasSuffix(id, ".0") || !pandasFloat.MatchString(id) {
		return ""
	}
	return fmt.Sprintf("%q looks like a number written as a float by a program (pandas): kept as written, it is another customer than %s; export the column as text if it is", breach.Clip(id), id[:strings.IndexByte(id, '.')])
}

// decomposedIDWarning warns of a customer_id with characters in decomposed form — é as e and a
// combining accent, as macOS writes file names and some exports text — or "" for any other.
// It is kept as written: IDs are compared byte for byte, and rewriting one would part a list
// imported before from its re-import (and the reference code derives from the ID). So JOSÉ-1
// typed on Windows and on a Mac are two customers, and the person would get two notices or
// the wrong contacts: the warning says so, on the row where it can still be fixed.
func decomposedIDWarning(id string) string {
	if printableASCII(id) || norm.NFC.IsNormalString(id) {
		return ""
	}
	return "customer_id has accented letters written as a letter and a combining accent (as a Mac writes them): it is kept as written, so the same ID typed on another computer, with the accented letters whole, is another customer; if this customer is on another row or list, make sure both write the ID the same way"
}

// usRegion is the state a US address's letter prints: the region as its postal code ("CA" for
// "California" or "Calif."; AA, AE or AP for military mail), or, when the region is empty, a
// placeholder (N/A) or no state (a sales region, a county), the state (or armed forces' code)
// its ZIP code names, with a warning saying so. Neither: the
// region as given, which the address's check then refuses — a letter must not carry "N/A" or
// "Northeast" where the post reads the state.
func usRegion(region, zip string) (state, warning string) {
	if st, _ := breach.USState(region); st != "" {
		// A state its ZIP code contradicts (CA beside New York's 10001) is kept as written —
		// which of the two is wrong is not known — and said: the post delivers by the ZIP
		// code, and the regulator report counts the customer in the state.
		if z := breach.USStateOfZIP(strings.TrimSpace(zip)); z != "" && !breach.ZIPFitsState(zip, st) {
			return st, fmt.Sprintf("the address's state %s is not the one its ZIP code names (%s): check the address (the letter is printed, and the regulator report counts the customer, with %s)", st, z, st)
		}
		return st, ""
	}
	if code := strings.ToUpper(strings.TrimSpace(region)); breach.IsUSPostalRegion(code) {
		return code, "" // AA, AE, AP: military mail
	}
	st := breach.USPostalRegionOfZIP(strings.TrimSpace(zip))
	switch {
	case st == "":
		return region, ""
	case region == "" || isNullPlaceholder(region):
		return st, fmt.Sprintf("the address has no state: %s, which its ZIP code names, is printed on the letter", st)
	}
	return st, fmt.Sprintf("the address's state %q is no US state: %s, which its ZIP code names, is printed on the letter", breach.Clip(region), st)
}

// hasAddress reports whether the list has address columns at all: a list without them pays
// nothing for addresses.
func (v *validator) hasAddress() bool {
	c := &v.cols.index
	return c[fieldAddress1] >= 0 || c[fieldAddress2] >= 0 || c[fieldAddress3] >= 0 ||
		c[fieldCity] >= 0 || c[fieldRegion] >= 0 || c[fieldPostalCode] >= 0
}

// address reads the row's postal address into r.Postal and checks it by the rules of its
// country (breach.PostalAddress.Validate, the country the row's or the campaign's default).
//
// An address is given when an address line is: city, region and postal code alone are not an
// address, and stay attributes under their column's name as they were before letters (the
// regulator report reads a ZIP code or a region from them). A `state` column, which stays the
// customer's jurisdiction, is also the address's region when the list has no region column or
// the row's region cell is empty.
//
// A bad address rejects the row, even when the customer has an email address or a phone
// number: the letter may be the notice the law asks for (letter_policy all, or a fallback),
// and a row whose address is wrong is often a row whose columns slipped. The reject names the
// line, the column and why; fixed, the row imports again (a later import merges into the
// customer). Nothing is kept without its address silently.
//
// A US address without its state takes the state its ZIP code names, with a warning (warning):
// the post delivers by the ZIP code, and rejecting the row left the customer without a letter.
func (v *validator) address(rec record, r *breach.ImportRow, get func(field) string, errs *rowError) (warning string) {
	a := breach.PostalAddress{
		Line1: get(fieldAddress1), Line2: get(fieldAddress2), Line3: get(fieldAddress3),
		City: get(fieldCity), Region: get(fieldRegion), PostalCode: get(fieldPostalCode),
	}
	if a.Line1 == "" && a.Line2 == "" && a.Line3 == "" {
		for _, f := range [...]field{fieldCity, fieldRegion, fieldPostalCode} {
			if i := v.cols.index[f]; i >= 0 {
				if val := get(f); val != "" {
					r.Extra = append(r.Extra, breach.Attribute{Name: v.cols.names[i], Value: val})
				}
			}
		}
		return ""
	}
	if a.Region == "" || isNullPlaceholder(a.Region) {
		// An empty region cell beside a state column is the same address as a list without
		// a region column: the state names it. Read from the ZIP code instead, it was right
		// on the envelope but warned that the address had no state.
		if st := get(fieldState); st != "" {
			a.Region = st
		}
	}
	a.Country = r.Country
	if a.Country == "" {
		a.Country = v.defaultCountry
	}
	if strings.EqualFold(a.Country, "US") {
		a.Region, warning = usRegion(a.Region, a.PostalCode)
	}
	if err := a.Validate(); err != nil {
		if ve, ok := err.(*breach.ValidationError); ok {
			for _, f := range ve.Fields {
				errs.add(f.Path, "%s", f.Message)
			}
			return ""
		}
		errs.add("address_line1", "%v", err)
		return ""
	}
	r.Postal = a
	return warning
}

// raw is the trimmed value of field f (Excel's ="…" unwrapped), unchecked, "" when the list has
// no such column.
func (v *validator) raw(rec record, f field) string {
	i := v.cols.index[f]
	if i < 0 {
		return ""
	}
	return strings.TrimSpace(unwrapExcelText(strings.TrimSpace(rec.fields[i])))
}

func (v *validator) reject(rec record, field, reason string) *breach.Reject {
	rej := &breach.Reject{Line: rec.line, Field: field, Reason: reason}
	if i := v.cols.index[fieldCustomerID]; i >= 0 && i < len(rec.fields) {
		if id := strings.TrimSpace(rec.fields[i]); utf8.ValidString(id) && len(id) <= maxCustomerID {
			if _, bad := plaintext.ControlChar(id, false); !bad {
				rej.CustomerID = id
			}
		}
	}
	return rej
}

func (v *validator) columnField(col int) string {
	if col < 0 || col >= len(v.cols.kind) {
		return ""
	}
	if f := v.cols.kind[col]; f > fieldIgnore {
		return f.String()
	}
	return v.cols.names[col]
}

// excelNumber is how Excel mangles a long digit string it took for a number: 5.1987654321E+10,
// or 5,1987654321E+10 where the decimal separator is a comma (French, Spanish, German Excel).
var excelNumber = regexp.MustCompile(`^[0-9]([.,][0-9]+)?[eE]\+[0-9]+$`)

// excelRounded reports whether id is digits only, 18 or more of them, the first not a zero and
// all zeros past the 15th: what Excel writes of a longer number (an ICCID's 19 or 20 digits),
// as it keeps 15 significant digits (a number format padding it with leading zeros shows an ID
// that was not rounded). Not 16 or 17 digits: one ID in ten of 16 digits ends in a zero, and
// would be refused wrongly (the review of this rule); three zeros, one in a thousand.
func excelRounded(id string) bool {
	if len(id) < 18 || id[0] == '0' || strings.Trim(id[15:], "0") != "" {
		return false
	}
	return isDigits(id[:15])
}

// excelDate is how Excel shows an ID it took for a date — 3-15 or MAR15 become 15-Mar, 3-2015
// Mar-15 — in English, Spanish, French and German (15-mar, ene-15, 15-mars, 01-févr, 15-Mär):
// the day and month's abbreviation, or the month's and two digits, as its default date formats
// write them, and as a CSV it saves keeps; in Korean, 03월 15일; and in numbers, 1-2-3 as
// 1/2/2003 (or 01.02.2003): a day and a month that can be one, and a four-digit year of this
// century or the last, as Excel writes them (12/34/56 or 01/02/03 are IDs, not its dates).
var excelDate = regexp.MustCompile(`^(([0-9]|[012][0-9]|3[01])-(` + excelMonths + `)\.?|(` + excelMonths + `)\.?-[0-9]{2}|(0?[1-9]|1[0-2])월 ?(0?[1-9]|[12][0-9]|3[01])일|` +
	`(0?[1-9]|[12][0-9]|3[01])[/.](0?[1-9]|[12][0-9]|3[01])[/.](19|20)[0-9]{2})$`)

// mayBeExcelDate is a test of every row's ID, cheaper than excelDate's, that it may be one of
// excelDate's shapes: day-month or month-year around a dash (AT-100001 is neither), numbers
// around two slashes or two dots, a Korean month.
func mayBeExcelDate(id string) bool {
	if len(id) > 16 || len(id) < 3 {
		return false
	}
	if a, b, ok := strings.Cut(id, "-"); ok {
		return len(a) <= 2 && isDigits(a) || len(b) == 2 && isDigits(b)
	}
	if id[0] >= '0' && id[0] <= '9' && (strings.Count(id, "/") == 2 || strings.Count(id, ".") == 2) {
		return true
	}
	return strings.Contains(id, "월")
}

// isDigits reports whether s is made of ASCII digits only (and is not empty).
func isDigits(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}

// excelMonths are the month abbreviations Excel's date formats write, in the case they write
// them: English and German capitalised, Spanish and French in lower case (MAR-15 in capitals is
// an ID, not Excel's).
const excelMonths = `Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec|Mär|Mai|Okt|Dez|` +
	`ene|feb|mar|abr|may|jun|jul|ago|sep|sept|oct|nov|dic|janv|févr|fevr|mars|avr|mai|juin|juil|août|aout|déc`

func (v *validator) phone(raw, country string, errs *rowError) string {
	region := country
	if region == "" {
		region = v.defaultCountry
	}
	if strings.IndexByte(raw, '.') > 0 && strings.HasSuffix(raw, "0") && pandasFloat.MatchString(raw) { // the regexp only when it may match: a phone on every row
		// A number column written by pandas as floats (987654321.0, as soon as one cell is
		// blank): parsed as it is, the ".0" was a last digit, and in countries whose numbers
		// vary in length (DE, AT, IT) that made another valid number — a stranger's.
		raw = raw[:strings.IndexByte(raw, '.')]
	}
	e164, err := v.phones.Parse(raw, region)
	if err != nil {
		// Two shapes the parser refuses that carry a number whole: a number column written
		// by pandas as floats (987654321.0, as soon as one cell is blank), and an extension
		// (415-555-2671 x123), which no SMS dials. Read without them, the customer keeps the
		// channel; the parser still judges what is left.
		if m := phoneSuffix.FindStringSubmatchIndex(raw); m != nil {
			if n, err2 := v.phones.Parse(raw[:m[2]], region); err2 == nil {
				return n
			}
		}
	}
	if err == nil {
		return e164
	}
	if excelNumber.MatchString(raw) {
		errs.add("phone", "%q is a number mangled by a spreadsheet (scientific notation); export the column as text", breach.Clip(raw))
	} else if region != "" && err == phone.ErrInvalid && country != "" && v.cols.weak[fieldCountry] {
		// The country came from a column only a weak alias names (País, Pays): it may be the
		// customer's nationality, not where their number is. Reading the number in the
		// campaign's country instead gave a Brazilian's 98765-4321 to a Peruvian stranger.
		errs.add("phone", "%q %v for %s (from the column %q): write it with its country code; if that column is the customer's nationality rather than their number's country, import with --map %s=-",
			breach.Clip(raw), err, region, v.cols.names[v.cols.index[fieldCountry]], v.cols.names[v.cols.index[fieldCountry]])
	} else if region != "" && err == phone.ErrInvalid && !internationalPhone(raw) {
		errs.add("phone", "%q %v for %s", breach.Clip(raw), err, region)
	} else {
		errs.add("phone", "%q %v", breach.Clip(raw), err)
	}
	return ""
}

// ambiguousPhone says why a phone written without its country code cannot be read, or "": a
// customer living in country (not the campaign's default_country) whose number is valid both
// there and in the default country, as two different numbers. Read in the residence, a
// Peruvian telecom's customer living in France had their Peruvian mobile 987 654 321 become
// +33 9 87 65 43 21 — a stranger's, who would have got the notice by SMS; read in the default
// country, a French customer's French number would. Which is meant cannot be known.
func (v *validator) ambiguousPhone(raw, country, read string) string {
	if read == "" || country == "" || v.defaultCountry == "" || country == v.defaultCountry || internationalPhone(raw) {
		return ""
	}
	other, ok := v.phones.ParseQuick(raw, v.defaultCountry)
	if !ok || other == read {
		return ""
	}
	return fmt.Sprintf("%q is a valid number both in %s (%s) and in %s (%s), and the list does not say which: write it with its country code",
		breach.Clip(raw), country, read, v.defaultCountry, other)
}

// splitPhones splits a phone cell at ',', ';', '/' and line breaks, for a cell that is not one
// number (validator.severalPhones judges the parts): "+49 6221/123456" is one number, read
// whole before this is asked. More than maxPhones parts are no person's numbers: nil, so that
// a hostile cell of thousands of numbers costs one parse, not thousands.
func splitPhones(raw string) []string {
	if !strings.ContainsAny(raw, ",;/\n") {
		return nil
	}
	parts := strings.FieldsFunc(raw, func(r rune) bool { return r == ',' || r == ';' || r == '/' || r == '\n' })
	if len(parts) > maxPhones {
		return nil
	}
	return parts
}

// maxPhones is the most numbers a phone cell is read as holding.
const maxPhones = 5

// severalPhones reads a cell of several numbers: each part must be a number by itself, or the
// cell is none (chosen is ""). It returns the part used — the first mobile, else the first —
// with its E.164 form.
func (v *validator) severalPhones(parts []string, country string) (chosen, e164 string) {
	for _, p := range parts {
		var perrs rowError
		n := v.phone(p, country, &perrs)
		if len(perrs.problems) > 0 || n == "" {
			return "", ""
		}
		if chosen == "" || v.phones.Landline(e164) && !v.phones.Landline(n) {
			chosen, e164 = strings.TrimSpace(p), n
		}
	}
	return chosen, e164
}

// internationalPhone reports whether a phone is written with its country code: a plus before
// its first digit ("+56…", "(+56) 9…", "tel:+56…", the full-width "＋56…"), or 00 as its first
// digits.
func internationalPhone(raw string) bool {
	for i, r := range raw {
		switch {
		case r == '+' || r == '＋':
			return true
		case r >= '0' && r <= '9':
			return strings.HasPrefix(raw[i:], "00")
		}
	}
	return false
}

// pandasFloat is a phone written as a float: digits, then ".0".
var pandasFloat = regexp.MustCompile(`^[0-9]+\.0+$`)

// phoneSuffix finds what follows a phone number that is no part of it: a float's ".0" or an
// extension ("x123", "ext. 123", "extension 123", "#123"); its first group starts there.
var phoneSuffix = regexp.MustCompile(`[0-9]((\.0+)|\s*[,;]?\s*(?i:ext\.?|extension|x|#)\s*[0-9]{1,6})\s*$`)

// jurisdiction reads the customer's own jurisdiction: a `jurisdiction` column ("us-ma",
// "gdpr"), or a US `state` column ("MA" → "us-ma"). A state column of another country
// ("Arequipa") is not a jurisdiction; every state value is kept as the attribute state; on a
// row without a
// country, a code is a US state's only when the campaign reads them so (breach.StateCodesAreUS:
// in a Brazilian list "MA" is Maranhão).
//
// A jurisdiction column is the notice profile counsel chose, not where the customer lives (it
// is often us-ca for everyone in the US, California's notice being the strictest), which is
// why the state is kept beside it: the regulator report counts people where they live.
// Dropped, a Floridian with California's notice counted for California.
func (v *validator) jurisdiction(j, state string, r *breach.ImportRow) (jurisdiction, jurisdictionWarning, stateWarning string) {
	// The state is where the customer lives, whatever else the row says: kept as written, as
	// the attribute the regulator report reads residence from (it ranks a notice profile below
	// the ZIP code: counsel's us-ca for everyone is no residence).
	if state != "" {
		keepState(r, state)
	}
	if j != "" && !isNullPlaceholder(j) { // NULL from SQL Server: no profile, the state decides
		lj := strings.ToLower(j)
		if slices.Contains(breach.KnownJurisdictions, lj) {
			return lj, "", ""
		}
		if code, ok := strings.CutPrefix(lj, "us-"); ok && breach.IsUSState(strings.ToUpper(code)) {
			return lj, "", "" // where a US customer lives, their notice the default profile's
		}
		// A state written where the profile goes ("CA", "California"): that state's, as in
		// a state column.
		if st, isCode := breach.USState(j); st != "" && (r.Country == "US" || r.Country == "" && (v.stateCodesAreUS || !isCode)) {
			return "us-" + strings.ToLower(st), "", ""
		}
		// Anything else ("EU", "Korea", "CCPA") was stored as a profile no notice has: the
		// customer got the default profile's notice (GDPR's, to a Californian), the row's
		// state ignored. It is left out with a warning, not the row: the customer is still
		// told, under the state's profile or the campaign's default (rejected, they were not
		// told at all — the review of this rule).
		jurisdictionWarning = fmt.Sprintf("%q is no notice profile (%s, or us- and a US state's code): left out; the customer's notice follows the state column or the campaign's default profile",
			breach.Clip(j), strings.Join(breach.KnownJurisdictions, ", "))
	}
	jurisdiction, stateWarning = v.stateProfile(state, r)
	return jurisdiction, jurisdictionWarning, stateWarning
}

// stateProfile is the notice profile of a row's US state column, and a warning when a US row's
// state is none.
func (v *validator) stateProfile(state string, r *breach.ImportRow) (jurisdiction, warning string) {
	if state == "" {
		return "", ""
	}
	// A code ("MA") is a US state's as the campaign reads codes; a name ("Massachusetts",
	// "Mass.") is one wherever the row is not placed in another country.
	if st, isCode := breach.USState(state); st != "" && (r.Country == "US" || r.Country == "" && (v.stateCodesAreUS || !isCode)) {
		return "us-" + strings.ToLower(st), ""
	}
	if r.Country == "US" {
		return "", fmt.Sprintf("%q is no US state's code or name: kept as written; the customer's notice follows the campaign's default profile", breach.Clip(state))
	}
	return "", ""
}

// keepState keeps a state value the row's jurisdiction does not hold as its attribute "state",
// where the regulator report reads it.
func keepState(r *breach.ImportRow, state string) {
	r.Extra = append(r.Extra, breach.Attribute{Name: "state", Value: state})
}

func (v *validator) attributes(rec record, r *breach.ImportRow, errs *rowError) {
	for i, f := range v.cols.kind {
		if f != fieldAttribute {
			continue
		}
		name := v.cols.names[i]
		val := cleanValue(name, rec.fields[i], true, errs)
		if val == "" {
			continue
		}
		r.Extra = append(r.Extra, breach.Attribute{Name: name, Value: val})
	}
}

// cleanValue trims a field (and Excel's ="…" wrapping) and checks that it is valid UTF-8
// without control characters (line breaks are allowed in attributes only). A bad value is
// reported under name and read as empty.
func cleanValue(name, raw string, multiline bool, errs *rowError) string {
	s := strings.TrimSpace(unwrapExcelText(strings.TrimSpace(raw)))
	if printableASCII(s) { // nearly every value: valid UTF-8 without a control character
		return s
	}
	if !utf8.ValidString(s) {
		errs.add(name, "invalid UTF-8 (if the file is Latin-1 or Windows-1252, import it with --encoding windows-1252)")
		return ""
	}
	// Invisible format characters (a zero-width space, a direction mark) pasted with a value
	// are dropped: the value is what the person sees. Not from a customer_id: AB12 and
	// AB<soft hyphen>12 may be two records of the source, and dropped, the second's contacts
	// silently replaced the first's; such an ID is refused below, saying which character.
	if name != customerIDName {
		if stripped, had := plaintext.StripFormat(s); had {
			s = strings.TrimSpace(stripped)
		}
	}
	if c, ok := plaintext.ControlChar(s, multiline); ok {
		errs.add(name, "contains the control character %U", c)
		return ""
	}
	return s
}

// fullName joins a given name and a family name as their script writes them: a Korean,
// Chinese or Japanese name family name first and without a space (최 + 하은 → 최하은, as a
// Korean notice greets "최하은 고객님께"), any other given name first.
func fullName(first, last string) string {
	first, last = strings.TrimSpace(first), strings.TrimSpace(last)
	switch {
	case first != "" && last != "" && eastAsian(first) && eastAsian(last):
		if strings.HasPrefix(first, last) && len(first) > len(last) {
			return first // 김민준 beside 김: the whole name already
		}
		return last + first
	case last != "" && holdsWords(first, last):
		return first // "Ana María Torres Díaz" beside "Torres Díaz": the whole name already
	}
	return first + " " + last
}

// holdsWords reports whether the words of part are words of whole, in a row, whatever their
// case, accents and spacing: a first-name column that holds the whole name ("TORRES DIAZ ANA
// MARIA", "Torres Díaz, Ana María") beside its surname column.
//
// It runs for every row of a list with both columns, so it folds into buffers on the stack,
// with a table of the Latin letters (latinBase), not a text transformer: a transform.Chain a
// row tripled the importer's CPU.
func holdsWords(whole, part string) bool {
	if len(part) == 0 || len(whole) < len(part)/2 {
		return false
	}
	if strings.IndexByte(whole, ',') < 0 && !strings.ContainsFunc(whole, unicode.IsSpace) {
		// One word, as most given names are: the whole name only if it is the surname.
		return strings.EqualFold(whole, part)
	}
	var wb, pb [256]byte
	p, w := foldWords(pb[:0], part), foldWords(wb[:0], whole)
	switch {
	case len(p) <= 2:
		return false
	case bytes.HasSuffix(w, p):
		return true // "Ana María Torres Díaz" beside "Torres Díaz"
	}
	// Elsewhere only with a sign of a whole name: a surname of two words or more ("TORRES
	// DIAZ ANA MARIA"), or a comma ("Torres Díaz, Ana María"). A one-word surname inside a
	// given name is the given name's (Santos Alberto Santos, Cruz, Paz, León).
	return (bytes.Count(p, []byte{' '}) > 2 || strings.IndexByte(whole, ',') >= 0) && bytes.Contains(w, p)
}

// foldWords appends s's words to dst in lower case, Latin letters without their accents, one
// space between them and one on each side.
func foldWords(dst []byte, s string) []byte {
	base := latinBase()
	dst = append(dst, ' ')
	space := true
	for _, r := range s {
		switch {
		case unicode.IsSpace(r) || r == ',':
			if !space {
				dst, space = append(dst, ' '), true
			}
			continue
		case r < rune(len(base)):
			r = base[r]
		case unicode.Is(unicode.Mn, r):
			continue // an accent written apart (JOSE + U+0301, as a Mac writes it)
		default:
			// Beyond the table (Vietnamese ễ, Cyrillic Ё): its base letter, from its
			// decomposition, without allocating.
			var b [utf8.UTFMax]byte
			if d := norm.NFD.Properties(b[:utf8.EncodeRune(b[:], r)]).Decomposition(); len(d) > 0 {
				r, _ = utf8.DecodeRune(d)
			}
			r = unicode.ToLower(r)
		}
		dst, space = utf8.AppendRune(dst, r), false
	}
	if !space {
		dst = append(dst, ' ')
	}
	return dst
}

// latinBase maps each letter up to U+024F (Latin-1 and Latin Extended) to its lower-case
// letter without accents (É → e, ñ → n), and every other rune to itself.
var latinBase = sync.OnceValue(func() *[0x250]rune {
	var t [0x250]rune
	for r := range t {
		t[r] = unicode.ToLower(rune(r))
		if d := []rune(norm.NFD.String(string(t[r]))); len(d) > 1 && d[0] < utf8.RuneSelf {
			t[r] = d[0]
		}
	}
	return &t
})

// eastAsian reports whether s is written in Hangul, Han or kana alone.
func eastAsian(s string) bool {
	return !strings.ContainsFunc(s, func(r rune) bool {
		return !unicode.In(r, unicode.Hangul, unicode.Han, unicode.Hiragana, unicode.Katakana)
	})
}

// noLanguage reports whether a locale's language is one of BCP 47's codes for none known:
// undetermined (und), no linguistic content (zxx), several (mul), uncoded (mis).
func noLanguage(tag string) bool {
	base, _, _ := strings.Cut(tag, "-")
	switch strings.ToLower(base) {
	case "und", "zxx", "mul", "mis":
		return true
	}
	return false
}

// oddSpace reports whether c is a space other than U+0020 (a no-break space, a thin space…).
func oddSpace(c rune) bool { return c != ' ' && unicode.Is(unicode.Zs, c) }

// quoteField is the field of the warnings that a quote may have cost the list customers
// (validator.row): they are listed in the import report even past its first warned rows.
const quoteField = "quote"

// customerIDName is the customer_id field's name, as cleanValue is given it.
var customerIDName = fieldCustomerID.String()

// blankIfPlaceholder marks the fields in which a null placeholder (isNullPlaceholder) is read
// as an empty cell. CRM and SQL exports write NULL, N/A or "-" where a customer has no phone or
// no second address line; read as a value, it rejected a customer who had a valid email. Not
// the country ("NA" is Namibia), the state or region (a code), the customer_id (a real ID) or
// the name (plaintext.Name has its own rules), nor the city (None is a town near Turin), nor
// other columns (kept as written). A US address's state is read by validator.address, which
// takes a placeholder there for no state.
var blankIfPlaceholder = [numFields]bool{
	fieldEmail: true, fieldPhone: true,
	fieldAddress1: true, fieldAddress2: true, fieldAddress3: true, fieldPostalCode: true,
}

// isSpreadsheetError reports whether s is an error value Excel, LibreOffice or Google Sheets
// shows in a cell whose formula failed (#N/A, #REF!, #VALUE! …).
func isSpreadsheetError(s string) bool {
	if len(s) < 4 || s[0] != '#' {
		return false
	}
	switch strings.ToUpper(s) {
	case "#N/A", "#REF!", "#VALUE!", "#DIV/0!", "#NAME?", "#NULL!", "#NUM!", "#SPILL!", "#CALC!", "#FIELD!", "#BLOCKED!", "#UNKNOWN!", "#GETTING_DATA", "#ERROR!":
		return true
	}
	return false
}

// isNullPlaceholder reports whether s is one of the placeholders exports write for "no value":
// NULL, N/A, NA, #N/A, none, - or --, in any case, and what programs write for a missing value:
// NaN and nan (pandas, whose astype(str) turns every empty cell into it), \N (MySQL's INTO
// OUTFILE and PostgreSQL's text COPY), (null) and [null] (C's printf, log tools), undefined
// (JavaScript), [object Object] (a JavaScript export of a value it could not print). Read as a
// customer_id, each made one customer of every row that had it: two people were never told and
// the third was told of a password and SIM that were the others'. "0" is not one: it is a
// value some columns hold, and a phone of 0 that is rejected says what is wrong. It runs on
// every contact cell, so it looks at the length before comparing anything.
func isNullPlaceholder(s string) bool {
	switch len(s) {
	case 1:
		return s == "-"
	case 2:
		return s == "--" || s == `\N` || strings.EqualFold(s, "na")
	case 3:
		return strings.EqualFold(s, "n/a") || strings.EqualFold(s, "nan")
	case 4:
		return strings.EqualFold(s, "null") || strings.EqualFold(s, "none") || strings.EqualFold(s, "#n/a")
	case 6:
		return strings.EqualFold(s, "(null)") || strings.EqualFold(s, "[null]")
	case 9:
		return strings.EqualFold(s, "undefined")
	case 15:
		return strings.EqualFold(s, "[object object]")
	}
	return false
}

// isNamePlaceholder reports whether s, a name or a part of one, is a placeholder for no value,
// spelled as the programs that write them spell them: NULL or null (SQL), \N (MySQL), nan and
// NaN (pandas), undefined, (null), N/A, #N/A, - and --. Not Na, Nan, Null or None, which are
// people's names too (the Korean family name Na, Christopher Null).
func isNamePlaceholder(s string) bool {
	switch s {
	case "NULL", "null", `\N`, "nan", "NaN", "undefined", "(null)", "[null]", "N/A", "n/a", "#N/A", "-", "--":
		return true
	}
	return false
}

// printableASCII reports whether s is made of printable ASCII characters only.
func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f {
			return false
		}
	}
	return true
}

// unwrapExcelText undoes Excel's ="0051…" idiom for keeping leading zeros.
func unwrapExcelText(s string) string {
	if len(s) >= 3 && s[0] == '=' && s[1] == '"' && s[len(s)-1] == '"' {
		return s[2 : len(s)-1]
	}
	return s
}

func allEmpty(fields []string) bool {
	for _, f := range fields {
		if strings.TrimSpace(f) != "" {
			return false
		}
	}
	return true
}
