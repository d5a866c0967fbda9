package breach

import (
	"encoding/json"
	"fmt"
	"math/bits"
	"strings"
)

// Category is one kind of personal data that a breach can expose. The set is closed: each
// category has localized guidance, so an unknown one cannot be notified about correctly and is
// rejected at import rather than silently ignored.
type Category uint8

// The categories, in the order of urgency used when guidance is listed: what lets an attacker
// take over accounts or money first, what is merely identifying last. The numeric values are
// stored in the database (as bit positions of Categories): append only, never renumber.
const (
	CategoryPassword Category = iota
	CategorySecurityQA
	CategoryPaymentCard
	CategoryBankAccount
	CategorySIM
	CategoryNationalID
	CategoryPassport
	CategoryDriversLicense
	CategoryAccountNumber
	CategoryDateOfBirth
	CategoryCallRecords
	CategoryLocation
	CategoryAddress
	CategoryPhone
	CategoryEmail
	CategoryName
	numCategories
)

var categoryNames = [numCategories]string{
	CategoryPassword:       "password",
	CategorySecurityQA:     "security_qa",
	CategoryPaymentCard:    "payment_card",
	CategoryBankAccount:    "bank_account",
	CategorySIM:            "sim",
	CategoryNationalID:     "national_id",
	CategoryPassport:       "passport",
	CategoryDriversLicense: "drivers_license",
	CategoryAccountNumber:  "account_number",
	CategoryDateOfBirth:    "date_of_birth",
	CategoryCallRecords:    "call_records",
	CategoryLocation:       "location",
	CategoryAddress:        "address",
	CategoryPhone:          "phone",
	CategoryEmail:          "email",
	CategoryName:           "name",
}

// categoryAliases are the other spellings customer lists use for a category. Keys are already
// normalized by normalizeCategoryName.
var categoryAliases = map[string]Category{
	"passwords":           CategoryPassword,
	"credentials":         CategoryPassword,
	"security_question":   CategorySecurityQA,
	"security_questions":  CategorySecurityQA,
	"card":                CategoryPaymentCard,
	"credit_card":         CategoryPaymentCard,
	"debit_card":          CategoryPaymentCard,
	"iban":                CategoryBankAccount,
	"bank":                CategoryBankAccount,
	"imsi":                CategorySIM,
	"iccid":               CategorySIM,
	"usim":                CategorySIM,
	"ssn":                 CategoryNationalID,
	"dni":                 CategoryNationalID,
	"national_id_number":  CategoryNationalID,
	"rrn":                 CategoryNationalID,
	"driver_license":      CategoryDriversLicense,
	"drivers_licence":     CategoryDriversLicense,
	"driving_licence":     CategoryDriversLicense,
	"dob":                 CategoryDateOfBirth,
	"birth_date":          CategoryDateOfBirth,
	"birthdate":           CategoryDateOfBirth,
	"cdr":                 CategoryCallRecords,
	"call_detail_records": CategoryCallRecords,
	"postal_address":      CategoryAddress,
	"phone_number":        CategoryPhone,
	"email_address":       CategoryEmail,
	"e_mail":              CategoryEmail,
	"e_mail_address":      CategoryEmail,
	"full_name":           CategoryName,
	"account":             CategoryAccountNumber,
	// As US notices and incident spreadsheets word them.
	"social_security_number": CategoryNationalID, "social_security": CategoryNationalID, "tax_id": CategoryNationalID,
	"national_id_card": CategoryNationalID, "id_number": CategoryNationalID, "passport_number": CategoryPassport,
	"drivers_license_number": CategoryDriversLicense, "driver_licence": CategoryDriversLicense,
	"credit_card_number": CategoryPaymentCard, "card_number": CategoryPaymentCard, "payment_card_number": CategoryPaymentCard,
	"debit_card_number": CategoryPaymentCard, "bank_account_number": CategoryBankAccount, "account_no": CategoryAccountNumber,
	"birthday": CategoryDateOfBirth, "home_address": CategoryAddress,
	"mailing_address": CategoryAddress, "mobile_number": CategoryPhone, "telephone_number": CategoryPhone,
	"first_name": CategoryName, "last_name": CategoryName, "geolocation": CategoryLocation,
	"security_answers": CategorySecurityQA, "call_logs": CategoryCallRecords,
	// In the shipped locales' languages (Spanish, French, Korean), with and without accents:
	// a Peruvian list's "nombre|DNI|teléfono" rejected its rows, and its customers went untold.
	"nombre": CategoryName, "nombres": CategoryName, "nombre_completo": CategoryName, "apellidos": CategoryName,
	"correo": CategoryEmail, "correo_electrónico": CategoryEmail, "correo_electronico": CategoryEmail,
	"teléfono": CategoryPhone, "telefono": CategoryPhone, "celular": CategoryPhone, "número_de_teléfono": CategoryPhone,
	"numero_de_telefono": CategoryPhone, "dirección": CategoryAddress, "direccion": CategoryAddress, "domicilio": CategoryAddress,
	"fecha_de_nacimiento": CategoryDateOfBirth, "documento_de_identidad": CategoryNationalID, "cédula": CategoryNationalID,
	"cedula": CategoryNationalID, "pasaporte": CategoryPassport, "licencia_de_conducir": CategoryDriversLicense,
	"brevete": CategoryDriversLicense, "tarjeta": CategoryPaymentCard, "tarjeta_de_crédito": CategoryPaymentCard,
	"tarjeta_de_credito": CategoryPaymentCard, "tarjeta_de_débito": CategoryPaymentCard, "tarjeta_de_debito": CategoryPaymentCard,
	"cuenta_bancaria": CategoryBankAccount, "contraseña": CategoryPassword, "contrasena": CategoryPassword,
	"clave": CategoryPassword, "preguntas_de_seguridad": CategorySecurityQA, "registro_de_llamadas": CategoryCallRecords,
	"registros_de_llamadas": CategoryCallRecords, "ubicación": CategoryLocation, "ubicacion": CategoryLocation,
	"número_de_cuenta": CategoryAccountNumber, "numero_de_cuenta": CategoryAccountNumber,
	"nom": CategoryName, "prénom": CategoryName, "nom_complet": CategoryName, "courriel": CategoryEmail,
	"adresse_e_mail": CategoryEmail, "téléphone": CategoryPhone, "numéro_de_téléphone": CategoryPhone,
	"adresse": CategoryAddress, "adresse_postale": CategoryAddress, "date_de_naissance": CategoryDateOfBirth,
	"numéro_de_sécurité_sociale": CategoryNationalID, "nir": CategoryNationalID, "carte_d_identité": CategoryNationalID,
	"carte_d_identite": CategoryNationalID, "passeport": CategoryPassport, "permis_de_conduire": CategoryDriversLicense,
	"carte_bancaire": CategoryPaymentCard, "carte_de_crédit": CategoryPaymentCard, "carte_de_paiement": CategoryPaymentCard,
	"compte_bancaire": CategoryBankAccount, "rib": CategoryBankAccount, "mot_de_passe": CategoryPassword,
	"questions_de_sécurité": CategorySecurityQA, "localisation": CategoryLocation, "carte_sim": CategorySIM,
	"numéro_de_compte": CategoryAccountNumber, "numéro_client": CategoryAccountNumber,
	"이름": CategoryName, "성명": CategoryName, "이메일": CategoryEmail, "전화번호": CategoryPhone, "휴대폰번호": CategoryPhone,
	"주소": CategoryAddress, "생년월일": CategoryDateOfBirth, "주민등록번호": CategoryNationalID, "여권번호": CategoryPassport,
	"여권": CategoryPassport, "운전면허": CategoryDriversLicense, "운전면허번호": CategoryDriversLicense,
	"카드번호": CategoryPaymentCard, "신용카드": CategoryPaymentCard, "계좌번호": CategoryBankAccount,
	"비밀번호": CategoryPassword, "보안질문": CategorySecurityQA, "통화기록": CategoryCallRecords, "위치정보": CategoryLocation,
	"유심": CategorySIM, "유심정보": CategorySIM,
	// More wordings of the shipped languages, from a review's lists: each rejected its row.
	"이메일_주소": CategoryEmail, "전자우편_주소": CategoryEmail, "전자우편": CategoryEmail, "휴대폰_번호": CategoryPhone,
	"휴대전화번호": CategoryPhone, "adresse_électronique": CategoryEmail, "adresse_electronique": CategoryEmail,
	"adresse_mail": CategoryEmail, "numéro_de_passeport": CategoryPassport, "numero_de_passeport": CategoryPassport,
	"question_secrète": CategorySecurityQA, "question_secrete": CategorySecurityQA, "questions_secrètes": CategorySecurityQA,
	"journal_d_appels": CategoryCallRecords, "journaux_d_appels": CategoryCallRecords,
	"dirección_de_correo_electrónico": CategoryEmail, "direccion_de_correo_electronico": CategoryEmail,
	"número_de_celular": CategoryPhone, "numero_de_celular": CategoryPhone, "pregunta_de_seguridad": CategorySecurityQA,
	"pregunta_secreta": CategorySecurityQA, "número_de_pasaporte": CategoryPassport, "numero_de_pasaporte": CategoryPassport,
	"email_addresses": CategoryEmail, "phone_numbers": CategoryPhone, "sim_card": CategorySIM, "sim_cards": CategorySIM,
}

// String returns the category's canonical name, as written in customer lists and templates.
func (c Category) String() string {
	if c < numCategories {
		return categoryNames[c]
	}
	return fmt.Sprintf("category(%d)", uint8(c))
}

// AllCategories returns every category, most urgent first.
func AllCategories() []Category {
	all := make([]Category, numCategories)
	for i := range all {
		all[i] = Category(i)
	}
	return all
}

// ParseCategory reads a category name or one of its common aliases, case-insensitively. It runs
// for every row of a customer list, so the canonical spelling is looked up before anything is
// allocated.
func ParseCategory(s string) (Category, error) {
	for i, name := range categoryNames {
		if name == s {
			return Category(i), nil
		}
	}
	key := normalizeCategoryName(s)
	for i, name := range categoryNames {
		if name == key {
			return Category(i), nil
		}
	}
	if c, ok := categoryAliases[key]; ok {
		return c, nil
	}
	return 0, fmt.Errorf("unknown category %q (known: %s)", Clip(s), strings.Join(categoryNames[:], ", "))
}

// elision spells French elisions (d'identité, l'adresse) as two words.
var elision = strings.NewReplacer(" d'", " d_", " d’", " d_", " l'", " l_", " l’", " l_")

// normalizeCategoryName lower-cases s and spells its separators as underscores; an apostrophe
// is dropped ("Driver's License" is drivers_license) or, between words, a separator (carte
// d'identité).
func normalizeCategoryName(s string) string {
	s = strings.ToLower(strings.Join(strings.Fields(s), " "))
	return strings.Map(func(r rune) rune {
		switch r {
		case ' ', '-':
			return '_'
		case '\'', '’':
			return -1
		}
		return r
	}, elision.Replace(s))
}

// Categories is a set of categories, stored as a bit set (bit i = Category i) so that merging
// two rows of the same customer is a bitwise OR, in Go and in SQL alike.
type Categories uint32

// Has reports whether c is in the set.
func (s Categories) Has(c Category) bool { return s&(1<<c) != 0 }

// With returns the set with c added.
func (s Categories) With(c Category) Categories { return s | 1<<c }

// Len is the number of categories in the set.
func (s Categories) Len() int { return bits.OnesCount32(uint32(s)) }

// List returns the categories in the set, most urgent first.
func (s Categories) List() []Category {
	out := make([]Category, 0, s.Len())
	for c := Category(0); c < numCategories; c++ {
		if s.Has(c) {
			out = append(out, c)
		}
	}
	return out
}

// Strings returns the names of the categories in the set, most urgent first.
func (s Categories) Strings() []string {
	list := s.List()
	out := make([]string, len(list))
	for i, c := range list {
		out[i] = c.String()
	}
	return out
}

// MarshalJSON writes the set as its names, most urgent first: a bit set means nothing to the
// people and programs reading a customer's record.
func (s Categories) MarshalJSON() ([]byte, error) { return json.Marshal(s.Strings()) }

// UnmarshalJSON reads a list of names, as MarshalJSON writes it.
func (s *Categories) UnmarshalJSON(b []byte) error {
	var names []string
	if err := json.Unmarshal(b, &names); err != nil {
		return fmt.Errorf("exposed categories: %w", err)
	}
	set, err := CategoriesOf(names...)
	if err != nil {
		return err
	}
	*s = set
	return nil
}

// ParseCategories reads a list of category names separated by '|', ';' or ',' (a customer
// list's `exposed` cell). A comma separates too because people write lists with one ("name,
// email, ssn" in a quoted cell), and so do a '/' ("password / payment_card") and a line break
// (a cell's list one a line, as Excel's Alt+Enter writes it): no category name or alias
// contains one, so nothing else can be meant. Empty items are ignored; the first unknown name
// is an error.
func ParseCategories(s string) (Categories, error) {
	var set Categories
	for s != "" {
		item := s
		if i := strings.IndexAny(s, "|;,/\n\r"); i >= 0 {
			item, s = s[:i], s[i+1:]
		} else {
			s = ""
		}
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		c, err := ParseCategory(item)
		if err != nil {
			return 0, err
		}
		set = set.With(c)
	}
	return set, nil
}

// CategoriesOf builds a set from names, failing on the first unknown one.
func CategoriesOf(names ...string) (Categories, error) {
	return ParseCategories(strings.Join(names, "|"))
}
