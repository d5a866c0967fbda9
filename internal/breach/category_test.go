package breach

import (
	"slices"
	"strings"
	"testing"
)

func TestParseCategories(t *testing.T) {
	tests := []struct {
		in   string
		want []Category
	}{
		{"", nil},
		{" | ;; ", nil},
		{"name", []Category{CategoryName}},
		{"name|SSN;dob", []Category{CategoryNationalID, CategoryDateOfBirth, CategoryName}},
		{" Password ; credit-card | ", []Category{CategoryPassword, CategoryPaymentCard}},
		{"Security Questions|IBAN|ICCID", []Category{CategorySecurityQA, CategoryBankAccount, CategorySIM}},
		{"drivers-licence|Driving Licence|driver_license", []Category{CategoryDriversLicense}},
		{"CDR|call detail records|birth-date", []Category{CategoryDateOfBirth, CategoryCallRecords}},
		{"full name|email address|phone number|postal address", []Category{CategoryAddress, CategoryPhone, CategoryEmail, CategoryName}},
		{"dni|rrn|national_id", []Category{CategoryNationalID}},
		{"name|name|NAME", []Category{CategoryName}},
		{"name, email, ssn", []Category{CategoryNationalID, CategoryEmail, CategoryName}},
		{"name,phone number;dob", []Category{CategoryDateOfBirth, CategoryPhone, CategoryName}},
		{"account|credentials|usim|location|passport", []Category{CategoryPassword, CategorySIM, CategoryPassport, CategoryAccountNumber, CategoryLocation}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseCategories(tt.in)
			if err != nil {
				t.Fatalf("ParseCategories(%q): %v", tt.in, err)
			}
			if !slices.Equal(got.List(), tt.want) && !(len(tt.want) == 0 && got == 0) {
				t.Errorf("ParseCategories(%q) = %v, want %v", tt.in, got.Strings(), tt.want)
			}
		})
	}
}

func TestParseCategories_UnknownNameIsNamed(t *testing.T) {
	for _, tt := range []struct{ in, unknown string }{
		{"name|favourite_color", "favourite_color"},
		{"Shoe Size;name", "Shoe Size"},
		{"name, email, shoe size", "shoe size"}, // a comma separates: the unknown item is named alone
	} {
		set, err := ParseCategories(tt.in)
		if err == nil {
			t.Errorf("ParseCategories(%q) = %v, want an error", tt.in, set.Strings())
			continue
		}
		if !strings.Contains(err.Error(), `"`+tt.unknown+`"`) {
			t.Errorf("ParseCategories(%q) error %q does not name %q", tt.in, err, tt.unknown)
		}
		if !strings.Contains(err.Error(), "national_id") {
			t.Errorf("error %q does not list the known categories", err)
		}
		if set != 0 {
			t.Errorf("ParseCategories(%q) returned %v with its error", tt.in, set.Strings())
		}
	}
}

func TestCategory_NamesRoundTrip(t *testing.T) {
	all := AllCategories()
	if len(all) != int(numCategories) {
		t.Fatalf("AllCategories has %d, want %d", len(all), numCategories)
	}
	seen := map[string]bool{}
	for _, c := range all {
		name := c.String()
		if name == "" || seen[name] {
			t.Errorf("category %d has empty or duplicate name %q", c, name)
		}
		seen[name] = true
		if got, err := ParseCategory(strings.ToUpper(name)); err != nil || got != c {
			t.Errorf("ParseCategory(%q) = %v, %v; want %v", strings.ToUpper(name), got, err, c)
		}
	}
	if got := Category(99).String(); got != "category(99)" {
		t.Errorf("Category(99).String() = %q", got)
	}
	for alias, c := range categoryAliases {
		if normalizeCategoryName(alias) != alias {
			t.Errorf("alias %q is not in normalized form, so it can never match", alias)
		}
		if _, clash := seen[alias]; clash {
			t.Errorf("alias %q shadows a canonical name", alias)
		}
		if c >= numCategories {
			t.Errorf("alias %q maps to unknown category %d", alias, c)
		}
	}
}

// TestCategories_ListIsMostUrgentFirst: guidance is listed in this order, so what lets an
// attacker take over accounts comes before what merely identifies.
func TestCategories_ListIsMostUrgentFirst(t *testing.T) {
	set, err := CategoriesOf("name", "email", "sim", "password", "national_id")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"password", "sim", "national_id", "email", "name"}
	if got := set.Strings(); !slices.Equal(got, want) {
		t.Errorf("Strings() = %v, want %v", got, want)
	}
	if set.Len() != 5 || !set.Has(CategorySIM) || set.Has(CategoryPassport) {
		t.Errorf("Len %d, Has(sim) %v, Has(passport) %v", set.Len(), set.Has(CategorySIM), set.Has(CategoryPassport))
	}
	all := AllCategories()
	if all[0] != CategoryPassword || all[len(all)-1] != CategoryName {
		t.Errorf("AllCategories = %v…%v, want password first and name last", all[0], all[len(all)-1])
	}
	var full Categories
	for _, c := range all {
		full = full.With(c)
	}
	if !slices.Equal(full.List(), all) {
		t.Errorf("List of every category = %v, want %v", full.List(), all)
	}
	if got := Categories(0).List(); len(got) != 0 {
		t.Errorf("empty set lists %v", got)
	}
}

// TestCategories_BitValuesAreStable: the bit positions are stored in the database.
func TestCategories_BitValuesAreStable(t *testing.T) {
	want := map[Category]uint8{CategoryPassword: 0, CategoryNationalID: 5, CategoryDateOfBirth: 9, CategoryName: 15}
	for c, bit := range want {
		if uint8(c) != bit {
			t.Errorf("%v has value %d, want %d (stored values must never change)", c, uint8(c), bit)
		}
	}
	if s := Categories(0).With(CategoryName).With(CategoryPassword); uint32(s) != 1<<15|1 {
		t.Errorf("set {password, name} = %#x", uint32(s))
	}
}

// An exposed cell as incident teams write it — in Spanish, French or Korean, in a US notice's
// words, one a line (Alt+Enter), separated by a slash — reads; each such wording rejected the
// row before, and its customer went untold.
func TestParseCategories_WordingsOfTheShippedLanguagesAndUSNotices(t *testing.T) {
	for cell, want := range map[string][]string{
		"nombre|DNI|teléfono":                      {"national_id", "phone", "name"},
		"Contraseña":                               {"password"},
		"Driver's License, Social Security Number": {"national_id", "drivers_license"},
		"Credit Card Number; passport number":      {"passport", "payment_card"},
		"password / payment_card":                  {"password", "payment_card"},
		"name\nphone":                              {"phone", "name"},
		"Carte d'identité|mot de passe":            {"national_id", "password"},
		"주민등록번호|비밀번호":                              {"national_id", "password"},
	} {
		got, err := ParseCategories(cell)
		w, _ := CategoriesOf(want...)
		if err != nil || got != w {
			t.Errorf("ParseCategories(%q) = %v, %v; want %v", cell, got.Strings(), err, w.Strings())
		}
	}
}
