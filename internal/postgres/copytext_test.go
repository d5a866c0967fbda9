package postgres

import "testing"

func TestAppendText_EscapesOnlyWhatCOPYReads(t *testing.T) {
	for in, want := range map[string]string{
		"":                      "",
		"Ana Pérez":             "Ana Pérez",
		`{"plan": "a\\nb"}`:     `{"plan": "a\\\\nb"}`,
		"a\tb\nc\rd\\e":         `a\tb\nc\rd\\e`,
		"bell\x07 del\x7f":      `bell\007 del\177`,
		"cust1@example1.com":    "cust1@example1.com",
		"Hogar, Internet + TV ": "Hogar, Internet + TV ",
	} {
		if got := string(appendText([]byte("x"), in)); got != "x"+want {
			t.Errorf("appendText(%q) = %q, want %q", in, got[1:], want)
		}
	}
}
