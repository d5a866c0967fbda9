package importer

import (
	"bytes"
	"errors"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/plaintext"
)

// fuzzDeadline is how long one input may take. The largest fuzz inputs (a few hundred KiB)
// parse in milliseconds; anything near this is a hang or a quadratic algorithm.
const fuzzDeadline = 10 * time.Second

// fuzzHeader is the fixed, valid header the fuzzer's bytes follow.
const fuzzHeader = "customer_id,email,phone,name,exposed,locale,country\n"

// FuzzReadRows runs the whole parse (decoding, record reader, validation, workers) over
// arbitrary bytes after a valid header. Whatever the bytes, parse must not panic or fail the
// file, must account for every row it read, and must accept only rows that are safe to notify.
// `make fuzz` runs it; the seeds below and testdata/fuzz/FuzzReadRows run with every go test.
func FuzzReadRows(f *testing.F) {
	seeds := []string{
		"C1,a@example.com,987 654 321,Ann,name|email,es-PE,PE\n",
		"C1,a@example.com,,\"Pérez, Ana\",,,\nC2,,+33 6 12 34 56 78,Bob,,fr,FR\n",
		"C1,a@example.com,,\"multi\nline\",,,\nC2,b@example.com,,Bob,,,\n",
		"C1,a@example.com,,\"Bob,,,\nC2,b@example.com,,Bob,,,\nC3,c@example.com,,\"Cid\",,,\n",
		"C1,a@example.com,,Ann,,,\r\n\r\nC2,b@example.com,,Bob,,,\r\n",
		"\xEF\xBB\xBFC1,a@example.com,,Ann,,,\n",
		"\xFF\xFEC\x001\x00,\x00\n\x00",
		"C1;a@example.com;;Ann;;;\n",
		"C1,a@example.com,,Jos\xe9,,,\nC2,b@example.com,,Ren\xc3\xa9e,,,\n",
		"C1,a@b,5.1987654321E+10,<script>,favourite_color,xx-??,Narnia\n",
		",,,,,,\n\n,,\n",
		"C1,a@example.com,,Bo\x07b,,,\nC\x002,b@example.com,,\u202eevil,,,\n",
		"=\"00123\",\"=\"\"00123\"\"\",,,,,\n",
		"C1,\"José <Jose@MÜNCHEN.de>\",,,,,\n",
		"C1,a@example.com,,Ann,,,,,,,,\nC2\nC3,c@example.com,,,,,\n",
		strings.Repeat("9", 130) + ",a@example.com,,\"" + strings.Repeat("ñ", 257) + "\",,,\nC2,b@example.com,,,,,\n",
		"\"\n\"\n\"\n\"\n\"\n",
		"C1,a@example.com,,\"\"\"\",,,\n\"C2\"x,b@example.com,,,,,\n",
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		data := append([]byte(fuzzHeader), body...)
		type result struct {
			rows    []breach.ImportRow
			rejects []breach.Reject
			imp     *breach.Import
			err     error
		}
		im := newTestImporter(t)
		done := make(chan result, 1)
		go func() {
			var r result
			r.rows, r.rejects, r.imp, r.err = runParse(im, data, Options{Workers: 2, BatchRows: 3})
			done <- r
		}()
		var res result
		select {
		case res = <-done:
		case <-time.After(fuzzDeadline):
			// A hang (or a quadratic blow-up) is a bug too; without this the fuzzer just stalls.
			buf := make([]byte, 1<<20)
			t.Fatalf("parse of %d bytes still running after %v:\n%s", len(data), fuzzDeadline, buf[:runtime.Stack(buf, true)])
		}
		rows, rejects, imp, err := res.rows, res.rejects, res.imp, res.err
		if err != nil && !errors.Is(err, errLeadingOversized) {
			// The header is valid and the input is not gzip: nothing in the rows may fail the
			// whole file; a bad row is a reject. The one exception is a file that starts with a
			// hundred rows over the row limits and not one customer (see pipeline.read).
			t.Fatalf("parse failed: %v", err)
		}
		if err != nil {
			return
		}
		if imp.Read != int64(len(rows)+len(rejects)) {
			t.Fatalf("Read %d != %d rows + %d rejects", imp.Read, len(rows), len(rejects))
		}
		for _, r := range rows {
			if r.CustomerID == "" {
				t.Errorf("line %d accepted without a customer_id", r.Line)
			}
			if r.Email == "" && r.Phone == "" {
				t.Errorf("line %d accepted with neither email nor phone", r.Line)
			}
			if r.Email != "" {
				if e, err := breach.ParseEmail(r.Email); err != nil || e != r.Email {
					t.Errorf("line %d: email %q is not normalized: ParseEmail gives %q, %v", r.Line, r.Email, e, err)
				}
			}
			if r.Phone != "" && (!strings.HasPrefix(r.Phone, "+") || strings.Trim(r.Phone[1:], "0123456789") != "") {
				t.Errorf("line %d: phone %q is not E.164", r.Line, r.Phone)
			}
			if strings.ContainsAny(r.Name, "<>") {
				t.Errorf("line %d: name %q holds markup", r.Line, r.Name)
			}
			for _, s := range []string{r.CustomerID, r.Email, r.Phone, r.Name, r.Locale, r.Country, r.Jurisdiction} {
				if !utf8.ValidString(s) {
					t.Errorf("line %d: invalid UTF-8 %q accepted", r.Line, s)
				}
				if c, bad := plaintext.ControlChar(s, false); bad {
					t.Errorf("line %d: control character %U accepted in %q", r.Line, c, s)
				}
			}
			for k, v := range r.AttributeMap() {
				if !utf8.ValidString(v) || strings.TrimSpace(v) == "" {
					t.Errorf("line %d: attribute %s = %q", r.Line, k, v)
				}
			}
		}
		// Every row and reject comes from its own line after the header (line 1). The header
		// is ASCII, so the input is read as UTF-8 or Windows-1252 and '\n' bytes are lines.
		physical := int64(bytes.Count(data, []byte("\n")) + 1)
		lines := append(rowLines(rows), rejectLines(rejects)...)
		slices.Sort(lines)
		for i, l := range lines {
			if l < 2 || l > physical {
				t.Errorf("row or reject at line %d; the input has lines 1…%d", l, physical)
			}
			if i > 0 && l <= lines[i-1] {
				t.Errorf("line %d delivered twice", l)
			}
		}
		for _, r := range rejects {
			if r.Reason == "" {
				t.Errorf("line %d rejected without a reason", r.Line)
			}
		}
	})
}
