package importer

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"

	"github.com/breachnotice/breachnotice/internal/breach"
)

// accentedList is a small list with accents, in the semicolon form Excel writes where the
// decimal separator is a comma (France, Peru).
const accentedList = "customer_id;email;name\n" +
	"AT-1;helene.lefevre@example.fr;Hélène Lefèvre\n" +
	"AT-2;jose.nunez@example.com;José Ñúñez\n"

func encode(t *testing.T, enc encoding.Encoding, s string) []byte {
	t.Helper()
	b, err := enc.NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatalf("encode %q: %v", s, err)
	}
	return b
}

func gzipBytes(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestParse_EncodingsAreDetectedAndDecoded feeds the same list in every encoding the importer
// claims to detect, and requires the same rows, accents intact, and the encoding recorded.
func TestParse_EncodingsAreDetectedAndDecoded(t *testing.T) {
	const list = "customer_id,email,name\n" +
		"AT-1,helene.lefevre@example.fr,Hélène Lefèvre\n" +
		"AT-2,jose.nunez@example.com,José Ñúñez\n"
	utf16le := unicode.UTF16(unicode.LittleEndian, unicode.UseBOM)
	utf16be := unicode.UTF16(unicode.BigEndian, unicode.UseBOM)
	utf16leNoBOM := unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM)
	utf16beNoBOM := unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM)

	tests := []struct {
		name      string
		data      func(t *testing.T) []byte
		opts      Options
		encoding  string
		delimiter string
	}{
		{"utf-8 without BOM", func(*testing.T) []byte { return []byte(list) }, Options{}, "utf-8", ","},
		{"utf-8 with BOM", func(*testing.T) []byte { return append([]byte("\xEF\xBB\xBF"), list...) }, Options{}, "utf-8", ","},
		{"utf-16le with BOM", func(t *testing.T) []byte { return encode(t, utf16le, list) }, Options{}, "utf-16le", ","},
		{"utf-16be with BOM", func(t *testing.T) []byte { return encode(t, utf16be, list) }, Options{}, "utf-16be", ","},
		{"utf-16le without BOM", func(t *testing.T) []byte { return encode(t, utf16leNoBOM, list) }, Options{}, "utf-16le", ","},
		{"utf-16be without BOM", func(t *testing.T) []byte { return encode(t, utf16beNoBOM, list) }, Options{}, "utf-16be", ","},
		{"utf-16le tab-separated, as Excel's Unicode Text", func(t *testing.T) []byte {
			return encode(t, utf16le, strings.ReplaceAll(list, ",", "\t"))
		}, Options{}, "utf-16le", "\t"},
		{"windows-1252 with semicolons", func(t *testing.T) []byte { return encode(t, charmap.Windows1252, accentedList) }, Options{}, "windows-1252", ";"},
		{"windows-1252 forced as latin1", func(t *testing.T) []byte { return encode(t, charmap.Windows1252, accentedList) },
			Options{Encoding: "latin1"}, "windows-1252", ";"},
		{"windows-1252 forced as windows-1252", func(t *testing.T) []byte { return encode(t, charmap.Windows1252, accentedList) },
			Options{Encoding: "Windows-1252"}, "windows-1252", ";"},
		{"utf-8 forced as utf-8", func(*testing.T) []byte { return []byte(accentedList) }, Options{Encoding: "utf8"}, "utf-8", ";"},
		{"utf-8 with BOM forced as utf-8", func(*testing.T) []byte { return append([]byte("\xEF\xBB\xBF"), accentedList...) },
			Options{Encoding: "utf-8"}, "utf-8", ";"},
		{"utf-16le without BOM forced", func(t *testing.T) []byte { return encode(t, utf16leNoBOM, list) },
			Options{Encoding: "utf-16le"}, "utf-16le", ","},
		{"gzip of utf-8", func(t *testing.T) []byte { return gzipBytes(t, []byte(list)) }, Options{}, "utf-8", ","},
		{"gzip of windows-1252", func(t *testing.T) []byte { return gzipBytes(t, encode(t, charmap.Windows1252, accentedList)) },
			Options{}, "windows-1252", ";"},
		{"gzip of utf-16le with BOM", func(t *testing.T) []byte { return gzipBytes(t, encode(t, utf16le, list)) }, Options{}, "utf-16le", ","},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows, rejects, imp := mustParseBytes(t, tt.data(t), tt.opts)
			if len(rejects) != 0 {
				t.Fatalf("rejects: %s", describeRejects(rejects))
			}
			if imp.Encoding != tt.encoding || imp.Delimiter != tt.delimiter {
				t.Errorf("encoding, delimiter = %q, %q; want %q, %q", imp.Encoding, imp.Delimiter, tt.encoding, tt.delimiter)
			}
			want := []struct {
				line        int64
				id, e, name string
			}{
				{2, "AT-1", "helene.lefevre@example.fr", "Hélène Lefèvre"},
				{3, "AT-2", "jose.nunez@example.com", "José Ñúñez"},
			}
			if len(rows) != len(want) {
				t.Fatalf("got %d rows, want %d: %+v", len(rows), len(want), rows)
			}
			for i, w := range want {
				r := rows[i]
				if r.Line != w.line || r.CustomerID != w.id || r.Email != w.e || r.Name != w.name {
					t.Errorf("row %d = line %d %q %q %q; want line %d %q %q %q", i, r.Line, r.CustomerID, r.Email, r.Name, w.line, w.id, w.e, w.name)
				}
				if len(r.Extra) != 0 {
					t.Errorf("row %d has attributes %v (a BOM or stray byte read as a column?)", i, r.Extra)
				}
			}
		})
	}
}

// TestParse_Latin1SemicolonFileKeepsAccents is the common case of a Western-European Excel
// export: Windows-1252, semicolons, no BOM.
func TestParse_Latin1SemicolonFileKeepsAccents(t *testing.T) {
	data := encode(t, charmap.Windows1252, accentedList)
	if bytes.Contains(data, []byte("é")) {
		t.Fatal("test data is still UTF-8")
	}
	rows, rejects, imp := mustParseBytes(t, data, Options{})
	if len(rejects) != 0 {
		t.Fatalf("rejects: %s", describeRejects(rejects))
	}
	if imp.Encoding != "windows-1252" || imp.Delimiter != ";" {
		t.Errorf("detected %q %q, want windows-1252 ;", imp.Encoding, imp.Delimiter)
	}
	if len(rows) != 2 || rows[0].Name != "Hélène Lefèvre" || rows[1].Name != "José Ñúñez" {
		t.Errorf("rows = %+v", rows)
	}
}

// bigASCIIPrefix returns a header and enough valid ASCII rows to fill more than the 64 KiB the
// importer sniffs, and the number of the next line. extra are added columns with a fixed value.
func bigASCIIPrefix(delim string, extra ...[2]string) (string, int64) {
	header := []string{"customer_id", "email", "name"}
	for _, e := range extra {
		header = append(header, e[0])
	}
	var b strings.Builder
	b.WriteString(strings.Join(header, delim) + "\n")
	line := int64(2)
	for b.Len() <= sniffBytes+1024 {
		fields := []string{fmt.Sprintf("C%05d", line), fmt.Sprintf("c%05d@example.com", line), fmt.Sprintf("Customer Number %05d", line)}
		for _, e := range extra {
			fields = append(fields, e[1])
		}
		b.WriteString(strings.Join(fields, delim) + "\n")
		line++
	}
	return b.String(), line
}

// TestParse_Windows1252AfterSniffWindowIsDecoded: a Windows-1252 list whose first 64 KiB (the
// sample the encoding is detected on) are ASCII is detected as UTF-8; its first accented row,
// further on, is read as Windows-1252 byte by byte — its name and attributes kept whole, no row
// rejected — and the import's encoding says from which line. The line is right whatever the
// file's line ends.
func TestParse_Windows1252AfterSniffWindowIsDecoded(t *testing.T) {
	for _, eol := range []string{"\n", "\r\n", "\r"} {
		t.Run(fmt.Sprintf("eol %q", eol), func(t *testing.T) {
			prefix, bad := bigASCIIPrefix(",", [2]string{"plan", "Prepago"})
			data := []byte(prefix)
			data = append(data, "LATE-1,jose@example.com,Jos\xe9 P\xe9rez,Plan B\xe1sico \x80\n"...)
			data = append(data, "LATE-2,ana@example.com,Ana Mu\xf1oz,Prepago\n"...)
			data = []byte(strings.ReplaceAll(string(data), "\n", eol))

			rows, rejects, imp := mustParseBytes(t, data, Options{})
			if want := fmt.Sprintf("utf-8 (windows-1252 from line %d)", bad); imp.Encoding != want {
				t.Errorf("encoding %q, want %q", imp.Encoding, want)
			}
			if len(rejects) != 0 || imp.Warned != 0 {
				t.Fatalf("rejects %s, warnings %+v; want none", describeRejects(rejects), imp.Warnings)
			}
			if got := int64(len(rows)); got != bad {
				t.Fatalf("accepted %d rows, want %d", got, bad)
			}
			if got := rows[len(rows)-2]; got.CustomerID != "LATE-1" || got.Name != "José Pérez" || got.Attribute("plan") != "Plan Básico €" || got.Line != bad {
				t.Errorf("row %+v, want LATE-1 at line %d with its accents", got, bad)
			}
			if got := rows[len(rows)-1]; got.CustomerID != "LATE-2" || got.Name != "Ana Muñoz" || got.Line != bad+1 {
				t.Errorf("row %+v, want LATE-2 at line %d with its accents", got, bad+1)
			}
		})
	}
}

// TestParse_UTF8ListKeepsItsEncoding: a UTF-8 list with accents past the sample is UTF-8 to
// its end, and says nothing else.
func TestParse_UTF8ListKeepsItsEncoding(t *testing.T) {
	prefix, bad := bigASCIIPrefix(",")
	data := append([]byte(prefix), "LATE-1,jose@example.com,José Pérez € 😀\n"...)
	rows, rejects, imp := mustParseBytes(t, data, Options{})
	if imp.Encoding != "utf-8" || len(rejects) != 0 || int64(len(rows)) != bad-1 || rows[len(rows)-1].Name != "José Pérez € 😀" {
		t.Errorf("encoding %q, rejects %s, last row %+v", imp.Encoding, describeRejects(rejects), rows[len(rows)-1])
	}
}

// TestParse_InvalidUTF8InAFileSaidToBeUTF8: when the file says it is UTF-8 (--encoding utf-8,
// or a byte-order mark), a byte that is not is not guessed at: in a name it costs the customer
// the accents of their name (the row is kept, its name neutralised, with a warning), elsewhere
// it rejects the row, saying why.
func TestParse_InvalidUTF8InAFileSaidToBeUTF8(t *testing.T) {
	prefix, bad := bigASCIIPrefix(",", [2]string{"plan", "Prepago"})
	data := append([]byte(prefix), "LATE-1,jose@example.com,Jos\xe9 P\xe9rez,Prepago\n"...)
	data = append(data, "LATE-2,ana@example.com,Ana,Plan B\xe1sico\n"...)
	for name, in := range map[string]struct {
		data []byte
		opts Options
	}{
		"--encoding utf-8": {data, Options{Encoding: "utf-8"}},
		"BOM":              {append([]byte("\xEF\xBB\xBF"), data...), Options{}},
	} {
		t.Run(name, func(t *testing.T) {
			rows, rejects, imp := mustParseBytes(t, in.data, in.opts)
			if imp.Encoding != "utf-8" {
				t.Errorf("encoding %q, want utf-8", imp.Encoding)
			}
			if len(rejects) != 1 || rejects[0].Line != bad+1 || rejects[0].Field != "plan" || !strings.Contains(rejects[0].Reason, "UTF-8") {
				t.Fatalf("rejects = %s; want line %d, field plan, invalid UTF-8", describeRejects(rejects), bad+1)
			}
			if imp.Warned != 1 || len(imp.Warnings) != 1 || imp.Warnings[0].Field != "name" || imp.Warnings[0].Line != bad {
				t.Fatalf("warnings %d %+v, want one, on line %d's name", imp.Warned, imp.Warnings, bad)
			}
			if got := rows[len(rows)-1]; got.CustomerID != "LATE-1" || got.Name != "Jos P rez" {
				t.Errorf("row %+v, want LATE-1 with its name neutralised", got)
			}
		})
	}
}

// TestParse_WholeFileInputErrors are the inputs no row of which can be read.
func TestParse_WholeFileInputErrors(t *testing.T) {
	tests := []struct {
		name string
		data []byte
		opts Options
		want string
	}{
		{"empty file", nil, Options{}, "empty"},
		{"only a UTF-8 BOM", []byte("\xEF\xBB\xBF"), Options{}, "no header"},
		{"only blank lines", []byte("\n\r\n\n"), Options{}, "no header"},
		{"gzip magic but not gzip", []byte("\x1f\x8bnot really gzip at all"), Options{}, "gzip"},
		{"unknown forced encoding", []byte(accentedList), Options{Encoding: "klingon"}, "unknown encoding"},
		{"forced encoding contradicts the BOM", append([]byte("\xEF\xBB\xBF"), accentedList...), Options{Encoding: "latin1"}, "byte-order mark"},
		{"unterminated quote in the header", []byte("customer_id,\"email,name\nC1,a@example.com,Ann\n"), Options{}, "header"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows, rejects, _, err := parseBytes(t, tt.data, tt.opts)
			if err == nil {
				t.Fatalf("no error; rows %+v rejects %s", rows, describeRejects(rejects))
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not mention %q", err, tt.want)
			}
			if code := breach.ErrorCode(err); code != breach.EINVALID {
				t.Errorf("error code %q, want %q (the file's fault)", code, breach.EINVALID)
			}
			if len(rows) != 0 || len(rejects) != 0 {
				t.Errorf("rows %d rejects %d written for a file that failed", len(rows), len(rejects))
			}
		})
	}
}

// TestParse_GzipCorruptBodyFails: a gzip stream that breaks after its header is a read error,
// not a silently shortened list.
func TestParse_GzipCorruptBodyFails(t *testing.T) {
	prefix, _ := bigASCIIPrefix(",")
	z := gzipBytes(t, []byte(prefix+prefix))
	z = z[:len(z)*2/3] // truncated upload
	_, _, _, err := parseBytes(t, z, Options{})
	if err == nil {
		t.Fatal("a truncated gzip file parsed without error")
	}
}

// A UTF-8 list with one byte pasted from a Windows-1252 one near its top is UTF-8 with that
// byte read as Windows-1252 — not a Windows-1252 file: read so, every other accented name in
// it was mangled (José as JosÃ©). A Windows-1252 file is still read as one.
func TestParse_AStrayWindows1252ByteInAUTF8SampleManglesNothing(t *testing.T) {
	rows, rejects, imp := mustParseBytes(t, []byte("customer_id,email,name\n"+
		"C1,a@example.com,José\nC2,b@example.com,Ren\xe9\nC3,c@example.com,Zoë\n"), Options{})
	if len(rejects) != 0 || len(rows) != 3 || imp.Encoding != "utf-8 (windows-1252 from line 3)" {
		t.Fatalf("%d rows, encoding %q, rejects%s", len(rows), imp.Encoding, describeRejects(rejects))
	}
	for i, want := range []string{"José", "René", "Zoë"} {
		if rows[i].Name != want {
			t.Errorf("line %d: name %q, want %q", rows[i].Line, rows[i].Name, want)
		}
	}
	rows, _, imp = mustParseBytes(t, []byte("customer_id,email,name\nC1,a@example.com,Jos\xe9\nC2,b@example.com,Mu\xf1oz\n"), Options{})
	if imp.Encoding != "windows-1252" || len(rows) != 2 || rows[1].Name != "Muñoz" {
		t.Errorf("a Windows-1252 file: encoding %q, rows %+v", imp.Encoding, rows)
	}
	// A Cyrillic list with one stray Windows-1252 byte is UTF-8 too.
	rows, _, imp = mustParseBytes(t, []byte("customer_id,email,name\nC1,a@example.com,Иван Петров\nC2,b@example.com,Ren\xe9\n"), Options{})
	if !strings.HasPrefix(imp.Encoding, "utf-8") || len(rows) != 2 || rows[0].Name != "Иван Петров" || rows[1].Name != "René" {
		t.Errorf("a Cyrillic list with a stray byte: encoding %q, rows %+v", imp.Encoding, rows)
	}
	// Windows-1252 whose capital accented letters before punctuation happen to be valid UTF-8
	// pairs (É and a non-breaking space, É and a closing quote) is still Windows-1252.
	rows, _, imp = mustParseBytes(t, []byte("customer_id,email,name\nC1,a@example.com,JOS\xc9\xa0LUIS P\xc9REZ\nC2,b@example.com,\x93REN\xc9\x94 DUPONT\n"), Options{})
	if imp.Encoding != "windows-1252" || len(rows) != 2 || rows[0].Name != "JOSÉ\u00a0LUIS PÉREZ" && rows[0].Name != "JOSÉ LUIS PÉREZ" || !strings.Contains(rows[1].Name, "RENÉ") {
		t.Errorf("Windows-1252 with UTF-8-like pairs: encoding %q, names %q, %q", imp.Encoding, rows[0].Name, rows[1].Name)
	}
}
