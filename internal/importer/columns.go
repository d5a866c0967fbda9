package importer

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/plaintext"
)

// field is what a column of the customer list holds.
type field int

const (
	fieldAttribute field = iota // any other column: kept as an attribute for templates
	fieldIgnore                 // dropped (--map COLUMN=-): data that must not be stored
	fieldCustomerID
	fieldEmail
	fieldPhone
	fieldName
	fieldFirstName
	fieldLastName
	fieldLocale
	fieldCountry
	fieldExposed
	fieldJurisdiction
	fieldState
	// The postal address (breach.PostalAddress). city, region and postal_code alone are no
	// address: without an address line they stay attributes, as they were before letters.
	fieldAddress1
	fieldAddress2
	fieldAddress3
	fieldCity
	fieldRegion
	fieldPostalCode
	numFields
)

var fieldNames = map[string]field{
	"customer_id":   fieldCustomerID,
	"email":         fieldEmail,
	"phone":         fieldPhone,
	"name":          fieldName,
	"first_name":    fieldFirstName,
	"last_name":     fieldLastName,
	"locale":        fieldLocale,
	"country":       fieldCountry,
	"exposed":       fieldExposed,
	"jurisdiction":  fieldJurisdiction,
	"state":         fieldState,
	"address_line1": fieldAddress1,
	"address_line2": fieldAddress2,
	"address_line3": fieldAddress3,
	"city":          fieldCity,
	"region":        fieldRegion,
	"postal_code":   fieldPostalCode,
	"-":             fieldIgnore,
	// Only for --map: a column kept as the list's own (an attribute), not read as a field
	// its header looks like (see looksExposed).
	"attribute": fieldAttribute,
}

// headerAliases are the other names customer lists give the known fields, after
// normalizeHeader.
var headerAliases = map[string]field{
	"customerid": fieldCustomerID, "customer_number": fieldCustomerID, "customer_no": fieldCustomerID,
	"client_id": fieldCustomerID, "account_id": fieldCustomerID, "subscriber_id": fieldCustomerID,
	"e_mail": fieldEmail, "mail": fieldEmail, "email_address": fieldEmail, "correo": fieldEmail,
	"mobile": fieldPhone, "msisdn": fieldPhone, "phone_number": fieldPhone, "mobile_number": fieldPhone,
	"cell": fieldPhone, "cellphone": fieldPhone, "telephone": fieldPhone, "tel": fieldPhone, "telefono": fieldPhone,
	"full_name": fieldName, "customer_name": fieldName, "nombre": fieldName,
	"firstname": fieldFirstName, "given_name": fieldFirstName,
	"lastname": fieldLastName, "surname": fieldLastName, "family_name": fieldLastName,
	"lang": fieldLocale, "language": fieldLocale, "idioma": fieldLocale,
	"country_code": fieldCountry, "pais": fieldCountry,
	"exposed_data": fieldExposed, "categories": fieldExposed, "data_exposed": fieldExposed,
	// A `state` column stays the customer's jurisdiction (a US state code); it is also the
	// address's region when the list has no region column (see validator.address). A bare
	// `address` column is not taken for the first line: CRMs export the whole address, line
	// breaks and all, under that name, which no post's rules can check; it stays an attribute
	// (--map address=address_line1 says otherwise).
	// The state under the names CRMs and spreadsheets give it ("State Code", "ST",
	// "State/Province"): under any of them the column is read as a state, where otherwise it
	// would stay an attribute that nothing reads as one and the regulator report would count
	// its customers as having no state.
	"state_code": fieldState, "st": fieldState, "us_state": fieldState, "state_province": fieldState,
	"province_state": fieldState, "mailing_state": fieldState,
	"address1": fieldAddress1, "address_1": fieldAddress1, "address_line_1": fieldAddress1,
	"street": fieldAddress1, "street_address": fieldAddress1,
	"address2": fieldAddress2, "address_2": fieldAddress2, "address_line_2": fieldAddress2,
	"address3": fieldAddress3, "address_3": fieldAddress3, "address_line_3": fieldAddress3,
	"town": fieldCity, "ciudad": fieldCity, "ville": fieldCity, "distrito": fieldCity,
	"province": fieldRegion, "provincia": fieldRegion, "county": fieldRegion,
	"zip": fieldPostalCode, "zipcode": fieldPostalCode, "zip_code": fieldPostalCode, "postcode": fieldPostalCode,
	"post_code": fieldPostalCode, "postal": fieldPostalCode, "codigo_postal": fieldPostalCode, "code_postal": fieldPostalCode,
}

// weakAliases are more headers as CRMs and spreadsheets write them ("E-mail Address", "Mobile
// Phone", "Preferred Language"), read as their field only when no other column of the list is that
// field and no other weak alias names it too: a Salesforce export's "Phone" beside "Mobile
// Phone", or "language" beside "preferred_language", imported before these were aliases (the
// second kept as an attribute) and must not be refused now as holding one field twice. No
// country: "Country of Residence" is not the country a Peruvian operator's phone numbers are
// read in, and read as it, a Peruvian mobile became a Chilean stranger's number.
var weakAliases = map[string]field{
	"e_mail_address": fieldEmail, "email_addr": fieldEmail, "emailaddress": fieldEmail,
	"correo_electronico": fieldEmail, "correo_electrónico": fieldEmail, "courriel": fieldEmail, "adresse_e_mail": fieldEmail,
	"mobile_phone": fieldPhone, "mobile_phone_number": fieldPhone, "cell_phone": fieldPhone, "cell_phone_number": fieldPhone,
	"cell_number": fieldPhone, "phone_no": fieldPhone, "mobile_no": fieldPhone, "telephone_number": fieldPhone,
	"teléfono": fieldPhone, "celular": fieldPhone, "movil": fieldPhone, "móvil": fieldPhone, "téléphone": fieldPhone,
	"휴대폰": fieldPhone, "휴대전화": fieldPhone, "핸드폰": fieldPhone, "휴대폰_번호": fieldPhone, "휴대폰번호": fieldPhone,
	"전자우편": fieldEmail, "e_mail_주소": fieldEmail,
	"preferred_language": fieldLocale, "langue": fieldLocale, "language_code": fieldLocale, "lang_code": fieldLocale,
	"cust_id": fieldCustomerID, "customer_#": fieldCustomerID, "cust_#": fieldCustomerID, "cust_no": fieldCustomerID,
	// "Phone #" as spreadsheets head it: kept as an attribute, the customer's only phone was
	// never used.
	"phone_#": fieldPhone, "mobile_#": fieldPhone, "cell_#": fieldPhone, "telephone_#": fieldPhone,
	// Spanish, French and Korean lists, in the shipped locales' own words: "País" as Spanish
	// Excel writes it was an attribute beside "Pais", and a Swiss customer's 079 number was read
	// as a French stranger's; "Nombres" and "Apellidos", "Prénom", left the greeting generic.
	// Weak, as lists that had them beside their field imported before they were aliases (a
	// "País" of nationality beside "country"), and a value they hold that cannot be read (a
	// Pays of "DOM-TOM") costs the customer only the value. A country read from one that the
	// phone is not valid in reads the phone in the campaign's country (validator.phone).
	"país": fieldCountry, "pays": fieldCountry, "국가": fieldCountry,
	"nombres": fieldFirstName, "apellidos": fieldLastName, "apellido": fieldLastName, "nombre_completo": fieldName,
	"prénom": fieldFirstName, "prenom": fieldFirstName, "nom_de_famille": fieldLastName, "nom_complet": fieldName,
	"고객번호": fieldCustomerID, "고객_id": fieldCustomerID, "고객id": fieldCustomerID, "회원번호": fieldCustomerID,
	"이메일": fieldEmail, "전화번호": fieldPhone, "이름": fieldName, "성명": fieldName, "고객명": fieldName, "성": fieldLastName,
	"언어": fieldLocale, "우편번호": fieldPostalCode,
	// The exposed categories under the headers lists give them in the shipped languages and
	// as breach tools export them: under "Datos expuestos" or "노출항목" the column was an
	// attribute, and every customer was told the campaign's default categories — nobody that
	// their password was exposed (a review's critical finding). See also looksExposed. Not
	// "Categorías" or "Data categories": CRMs name a customer segment so (Residencial,
	// Empresa), and read as the exposed data, it refused every row (the review of this list).
	"exposed_categories": fieldExposed, "exposed_data_types": fieldExposed, "exposed_information": fieldExposed,
	"information_exposed": fieldExposed, "compromised_data": fieldExposed,
	"breached_data": fieldExposed, "affected_data": fieldExposed, "data_elements": fieldExposed, "exposed_fields": fieldExposed,
	"datos_expuestos": fieldExposed, "datos_comprometidos": fieldExposed, "datos_afectados": fieldExposed,
	"datos_filtrados":  fieldExposed,
	"données_exposées": fieldExposed, "donnees_exposees": fieldExposed, "données_concernées": fieldExposed,
	"donnees_concernees": fieldExposed, "données_compromises": fieldExposed,
	"노출항목": fieldExposed, "노출_항목": fieldExposed, "유출항목": fieldExposed, "유출_항목": fieldExposed,
	"유출정보": fieldExposed, "유출_정보": fieldExposed, "노출정보": fieldExposed, "노출_정보": fieldExposed,
	// The state and ZIP code as Salesforce (Mailing/Billing/Shipping State/Province) and
	// HubSpot (State/Region) export them: 600 Californians were told no California notice, and
	// the Attorney General's obligation was missing from the regulator report.
	"mailing_state_province": fieldState, "billing_state_province": fieldState, "shipping_state_province": fieldState,
	"other_state_province": fieldState, "state_region": fieldState, "state_or_province": fieldState,
	"mailing_zip_postal_code": fieldPostalCode, "billing_zip_postal_code": fieldPostalCode,
	"shipping_zip_postal_code": fieldPostalCode, "zip_postal_code": fieldPostalCode, "postal_zip_code": fieldPostalCode,
	// Phones and languages under more of the shipped languages' headers: a customer with only
	// a phone under "연락처" was refused as having none.
	"연락처": fieldPhone, "휴대전화번호": fieldPhone, "핸드폰번호": fieldPhone, "이동전화": fieldPhone,
	"teléfono_móvil": fieldPhone, "telefono_movil": fieldPhone, "número_de_celular": fieldPhone, "numero_de_celular": fieldPhone,
	"nro_celular": fieldPhone, "telefono_celular": fieldPhone, "teléfono_celular": fieldPhone,
	"portable": fieldPhone, "téléphone_portable": fieldPhone, "telephone_portable": fieldPhone, "tél_mobile": fieldPhone,
	"numéro_de_mobile": fieldPhone, "numero_de_mobile": fieldPhone, "numéro_de_portable": fieldPhone,
	"primary_phone": fieldPhone, "contact_number": fieldPhone, "phone_mobile": fieldPhone,
	"idioma_preferido": fieldLocale, "langue_préférée": fieldLocale, "langue_preferee": fieldLocale, "선호_언어": fieldLocale,
	"language_preference": fieldLocale, "communication_language": fieldLocale, "idioma_de_contacto": fieldLocale,
	"locale_code": fieldLocale,
}

// preferredAliases are the weak aliases read among several of their field's (mapHeader).
var preferredAliases = map[string]field{
	"mailing_state_province": fieldState, "billing_state_province": fieldState,
	"mailing_zip_postal_code": fieldPostalCode, "billing_zip_postal_code": fieldPostalCode,
}

// exposedStems are what a header holds when its column lists what was exposed, in the shipped
// languages (looksExposed).
var exposedStems = []string{"expos", "expuest", "compromis", "comprometid", "breached", "leaked", "filtrad", "노출", "유출"}

// isWhenColumn reports whether a column's name says it holds a time (exposure_date,
// compromised_at, fecha_de_exposición): no list of categories.
func isWhenColumn(name string) bool {
	return strings.HasSuffix(name, "_at") || strings.HasSuffix(name, "_on") ||
		strings.Contains(name, "date") || strings.Contains(name, "time") || strings.Contains(name, "fecha") ||
		strings.Contains(name, "heure") || strings.Contains(name, "일자") || strings.Contains(name, "일시")
}

// looksExposed returns the first column kept as an attribute whose header says it lists what
// was exposed, when no column is read as the exposed categories; -1 when there is none. Such a
// list would tell every customer the campaign's default categories — not what its column says
// — so the import is refused until --map says which the column is.
func looksExposed(c *columns, mapped []bool) int {
	if c.index[fieldExposed] >= 0 {
		return -1
	}
	for i, name := range c.names {
		if c.kind[i] != fieldAttribute || mapped[i] || isWhenColumn(name) {
			continue
		}
		for _, stem := range exposedStems {
			if strings.Contains(name, stem) {
				return i
			}
		}
	}
	return -1
}

// columns maps each column of a list to the field it holds.
type columns struct {
	kind  []field
	names []string // normalized header names (attribute keys)
	index [numFields]int
	// weak marks the fields read from a column only a weak alias names: a value there that
	// cannot be read costs the customer nothing but the value (validator.row).
	weak [numFields]bool
}

// baseName is a column's name without the _2, _3 … a repeated header gets (mapHeader): two
// "Mobile Phone" columns are two weak aliases of the phone, and neither is read as it.
func baseName(name string) string {
	if i := strings.LastIndexByte(name, '_'); i > 0 && isDigits(name[i+1:]) {
		return name[:i]
	}
	return name
}

// normalizeHeader is a header cell as the field names and aliases are written: lower case,
// words joined by '_'. A '/' separates words like a space or a dash does, so that
// "State/Province" reads as state_province.
func normalizeHeader(h string) string {
	h, _ = plaintext.StripFormat(h) // a byte order mark, a zero-width space
	h = strings.ToLower(strings.TrimSpace(h))
	return strings.Join(strings.FieldsFunc(h, func(r rune) bool {
		return unicode.IsSpace(r) || r == '-' || r == '_' || r == '.' || r == '/' // NBSP too
	}), "_")
}

// mapHeader reads the header row, found on line (1, or 2 after a sep= line). overrides (from
// --map) name the field of a column, by the column's header text, case-insensitively.
func mapHeader(header []string, line int64, overrides map[string]string) (columns, error) {
	c := columns{kind: make([]field, len(header)), names: make([]string, len(header))}
	for i := range c.index {
		c.index[i] = -1
	}
	if len(header) > maxColumns {
		return c, fmt.Errorf("header: %d columns, more than the %d a customer list may have", len(header), maxColumns)
	}
	for i, h := range header {
		if !utf8.ValidString(h) {
			return c, fmt.Errorf("header: column %d is not valid UTF-8 (if the file is Latin-1 or Windows-1252, import it with --encoding windows-1252)", i+1)
		}
		visible, _ := plaintext.StripFormat(h) // normalizeHeader drops what StripFormat does
		if r, bad := plaintext.ControlChar(visible, false); bad {
			return c, fmt.Errorf("header: column %d contains the control character %U", i+1, r)
		}
		if len(h) > maxHeaderName {
			return c, fmt.Errorf("header: column %d's name is longer than %d bytes", i+1, maxHeaderName)
		}
	}
	names := make([]string, len(header))
	taken := map[string]bool{}
	for i, h := range header {
		names[i] = normalizeHeader(h)
		if names[i] == "" {
			names[i] = fmt.Sprintf("column_%d", i+1)
		}
		taken[names[i]] = true
	}
	byName := map[string]int{}
	for i, name := range names {
		if _, dup := byName[name]; dup {
			// A repeated name gets a name of its own (notes_2), which --map can name. A
			// repeated attribute (Notes, Notes) is only more of the customer's data, kept under
			// it; the new name is never read as a field (a second Address is no address_2, the
			// second address line). A repeated field stays that field, and is refused below
			// unless --map says what it is: which of two emails is the customer's needs a choice.
			for k := 2; ; k++ {
				if alt := fmt.Sprintf("%s_%d", name, k); !taken[alt] {
					taken[alt], c.names[i], byName[alt] = true, alt, i
					break
				}
			}
			c.kind[i] = headerField(header[i])
			continue
		}
		byName[name] = i
		c.names[i] = name
		if f, ok := fieldNames[name]; ok && f != fieldIgnore {
			c.kind[i] = f
		} else if f, ok := headerAliases[name]; ok {
			c.kind[i] = f
		}
	}
	mapped := make([]bool, len(header)) // the columns --map names
	for _, col := range slices.Sorted(maps.Keys(overrides)) {
		target := overrides[col]
		i, ok := byName[normalizeHeader(col)]
		if !ok {
			return c, fmt.Errorf("--map %s=%s: the header has no column %q %s", col, target, col, describeHeader(header, line))
		}
		f, ok := fieldNames[strings.ToLower(strings.TrimSpace(target))]
		if !ok {
			return c, fmt.Errorf("--map %s=%s: unknown field %q (fields: %s)", col, target, target, strings.Join(slices.Sorted(maps.Keys(fieldNames)), ", "))
		}
		c.kind[i], mapped[i] = f, true
	}
	// A weak alias is its field only when it alone names it, --map included: a list with
	// "Mobile Phone" and --map Numero=phone imported before it was an alias.
	var byField, weak [numFields]int
	for _, f := range c.kind {
		byField[f]++
	}
	for i, name := range c.names {
		if f, ok := weakAliases[baseName(name)]; ok && c.kind[i] == fieldAttribute && !mapped[i] {
			weak[f]++
		}
	}
	for i, name := range c.names {
		if f, ok := weakAliases[name]; ok && c.kind[i] == fieldAttribute && !mapped[i] && byField[f] == 0 && weak[f] == 1 {
			c.kind[i], c.weak[f] = f, true
		}
	}
	// Salesforce exports a contact's Mailing and Other addresses, an account's Billing and
	// Shipping ones: of two such state (or ZIP) columns the mailing or billing one is where the
	// customer is written to, and neither was read (a review: no state for 600 Californians).
	for i, name := range c.names {
		if f, ok := preferredAliases[name]; ok && c.kind[i] == fieldAttribute && !mapped[i] && byField[f] == 0 && weak[f] > 1 && !c.weak[f] {
			c.kind[i], c.weak[f] = f, true
		}
	}
	// "Nombre" beside "Apellidos" is the first name, not the whole name (which greeted Ana
	// María Torres as Ana María), "이름" beside "성" the given name, and "Nom" beside "Prénom"
	// the family name; fullName does not repeat a family name the first column already ends
	// with (a Nombre that holds the whole name).
	hasKind := func(f field) bool { return slices.Contains(c.kind, f) }
	for i, name := range c.names {
		switch {
		case mapped[i]:
		case (name == "nombre" || name == "이름") && c.kind[i] == fieldName && hasKind(fieldLastName) && !hasKind(fieldFirstName):
			c.kind[i] = fieldFirstName
		case name == "nom" && c.kind[i] == fieldAttribute && hasKind(fieldFirstName) && !hasKind(fieldLastName):
			c.kind[i] = fieldLastName
		}
	}
	for i, f := range c.kind {
		if f <= fieldIgnore {
			continue
		}
		if j := c.index[f]; j >= 0 && names[j] == names[i] && headerField(header[i]) == f {
			return c, fmt.Errorf("header: columns %d and %d have the same name%s, the field %s: drop one with --map %s=- (column %d), or --map it to another field, or rename it",
				j+1, i+1, quoteIfField(header[i]), f, c.names[i], i+1)
		} else if j >= 0 {
			return c, fmt.Errorf("header: columns %d%s and %d%s both hold %s; keep one or --map one of them to another field (or to - to drop it)",
				j+1, quoteIfField(header[j]), i+1, quoteIfField(header[i]), f)
		}
		c.index[f] = i
	}
	if c.index[fieldCustomerID] < 0 {
		return c, fmt.Errorf("header: no customer_id column %s; name one customer_id or use --map COLUMN=customer_id", describeHeader(header, line))
	}
	if i := looksExposed(&c, mapped); i >= 0 {
		return c, fmt.Errorf("header: column %d (%q) looks like the data exposed, but no column is read as the exposed categories, so every customer would be told the campaign's default ones: --map %q=exposed reads it as them (one or more categories per row), --map %q=attribute keeps it as a column of the list",
			i+1, breach.Clip(header[i]), header[i], header[i])
	}
	if c.index[fieldEmail] < 0 && c.index[fieldPhone] < 0 && c.index[fieldAddress1] < 0 {
		return c, fmt.Errorf("header: neither an email, a phone nor an address_line1 column %s; use --map COLUMN=email, --map COLUMN=phone or --map COLUMN=address_line1", describeHeader(header, line))
	}
	return c, nil
}

// Limits on the header row.
const (
	maxColumns    = 512
	maxHeaderName = 256
)

// describeHeader says what a header's columns were read as, for an error message. A header
// row's text is copied into it only where it names a field ("E-mail" as email): an error is
// stored with the import, read without an audit and kept after a purge, and a file without a
// header row has a customer's name and address on its line 1.
func describeHeader(header []string, line int64) string {
	var known []string
	other := 0
	for i, h := range header {
		if f := headerField(h); f > fieldIgnore {
			known = append(known, fmt.Sprintf("column %d %q as %s", i+1, h, f))
		} else {
			other++
		}
	}
	if len(known) == 0 {
		return fmt.Sprintf("(line %d names none of the fields: the header row, naming the columns — customer_id, email, phone, name … — must be the first row of the file, with nothing above it)", line)
	}
	columns := "columns"
	if other == 1 {
		columns = "column"
	}
	return fmt.Sprintf("(line %d names %s; %d other %s, not shown: only field names are repeated here, in case line %d is a customer's data)",
		line, strings.Join(known, ", "), other, columns, line)
}

// headerField is the field a header cell names by itself (a field name or an alias), or
// fieldAttribute.
func headerField(h string) field {
	name := normalizeHeader(h)
	if f, ok := fieldNames[name]; ok {
		return f
	}
	return headerAliases[name]
}

// quoteIfField is " (\"h\")" when h names a field, else "": see describeHeader.
func quoteIfField(h string) string {
	if headerField(h) > fieldIgnore {
		return fmt.Sprintf(" (%q)", h)
	}
	return ""
}

// fieldLabels name the fields in messages, as a customer list's header would.
var fieldLabels = [numFields]string{
	fieldAttribute: "attribute", fieldIgnore: "-", fieldCustomerID: "customer_id", fieldEmail: "email",
	fieldPhone: "phone", fieldName: "name", fieldFirstName: "first_name", fieldLastName: "last_name",
	fieldLocale: "locale", fieldCountry: "country", fieldExposed: "exposed",
	fieldJurisdiction: "jurisdiction", fieldState: "state",
	fieldAddress1: "address_line1", fieldAddress2: "address_line2", fieldAddress3: "address_line3",
	fieldCity: "city", fieldRegion: "region", fieldPostalCode: "postal_code",
}

func (f field) String() string { return fieldLabels[f] }
