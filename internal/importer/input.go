package importer

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/breachnotice/breachnotice/internal/breach"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/htmlindex"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

// sniffBytes is how much of the input is examined to guess its encoding and delimiter.
const sniffBytes = 64 << 10

// Format is what the importer found out (or was told) about a file's bytes.
type Format struct {
	Gzip      bool   `json:"gzip"`
	Encoding  string `json:"encoding"`  // "utf-8", "utf-16le", "utf-16be", "windows-1252", "euc-kr", "shift_jis", …
	BOM       bool   `json:"bom"`       // the file started with a byte-order mark
	Delimiter string `json:"delimiter"` // ",", ";" or "\t" (detected), or "|" (from a sep= line)
	// Sheet is the sheet a spreadsheet list was read from; Encoding and Delimiter are then
	// empty.
	Sheet  string `json:"sheet,omitempty"`
	CROnly bool   `json:"cr_only"` // lines end with a bare carriage return (old Mac Excel)
	// fallback is set when the encoding was detected as UTF-8: it reads a later byte that is
	// not UTF-8 as Windows-1252, and says from which line (see encodingRead).
	fallback *cp1252Fallback
}

// encodingRead is the encoding the file was read in, once it has been read: Encoding, and
// "utf-8 (windows-1252 from line N)" when a file detected as UTF-8 held bytes that are not,
// from line N on, so that the import's report says how its rows were decoded. It is only
// read once the reading has stopped (the pipeline's reader goroutine has returned).
func (f Format) encodingRead() string {
	if f.fallback != nil && f.fallback.firstLine > 0 {
		return fmt.Sprintf("%s (windows-1252 from line %d)", f.Encoding, f.fallback.firstLine)
	}
	return f.Encoding
}

// crToLF reads a file whose lines end with a bare CR as if they ended with LF.
type crToLF struct{ r io.Reader }

func (c crToLF) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	for i, b := range p[:n] {
		if b == '\r' {
			p[i] = '\n'
		}
	}
	return n, err
}

// recordSource is where the importer reads a list's records: a CSV (recordReader) or a sheet
// of a spreadsheet (sheetReader for .xlsx, odsReader for .ods).
type recordSource interface {
	// Read returns the next record, or io.EOF after the last; an error reading the input is a
	// *readError.
	Read() (record, error)
	// useHeader tells the source the header's columns and number, once the header is read.
	useHeader(cols columns, width int)
	Close() error
}

// openList opens the list that counted reads (src, counted): a spreadsheet or a CSV, told
// apart by their first bytes, never by a file name.
func openList(counted, src io.Reader, opts Options) (recordSource, Format, error) {
	br := bufio.NewReaderSize(counted, 256<<10)
	if isWorkbook(br) {
		sr, sheet, err := openSpreadsheet(br, src, opts.Sheet)
		if err != nil {
			return nil, Format{}, err
		}
		return sr, Format{Sheet: sheet}, nil
	}
	if opts.Sheet != "" {
		return nil, Format{}, breach.Errorf(breach.EINVALID, "a sheet (%q) was named, but the list is not a spreadsheet: it reads as text (CSV)", opts.Sheet)
	}
	in, format, err := openInput(br, opts.Encoding)
	if err != nil {
		return nil, format, breach.Errorf(breach.EINVALID, "%v", err)
	}
	comma, hinted := excelSepHint(in)
	if !hinted {
		comma = detectDelimiter(in)
	}
	format.Delimiter = string(comma)
	rr := newRecordReader(in, comma)
	if hinted {
		rr.nextNo = 2 // the hint was line 1: the header is line 2, and lines keep their numbers
	}
	return rr, format, nil
}

// excelSepHint reads the hint line Excel honours and many exporters write for it — "sep=;" as
// line 1, the delimiter of the rest of the file — and, when there is one, consumes the line and
// returns its delimiter (',', ';', tab or '|'). Without it, the line would be taken for the
// header and the file refused for naming no column. The line may be quoted ("sep=;") or end in
// more delimiters (sep=;;; from a spreadsheet that saved it as a row).
func excelSepHint(br *bufio.Reader) (byte, bool) {
	peek, _ := br.Peek(64)
	end := bytes.IndexByte(peek, '\n')
	if end < 0 {
		if len(peek) == 64 {
			return 0, false
		}
		end = len(peek) // the file is this line only
	}
	line := bytes.TrimSuffix(peek[:end], []byte{'\r'})
	if len(line) >= 2 && line[0] == '"' && line[len(line)-1] == '"' {
		line = line[1 : len(line)-1]
	}
	if len(line) < 5 || !bytes.EqualFold(line[:4], []byte("sep=")) {
		return 0, false
	}
	comma := line[4]
	if comma != ',' && comma != ';' && comma != '\t' && comma != '|' {
		return 0, false
	}
	for _, c := range line[5:] {
		if c != comma {
			return 0, false
		}
	}
	br.Discard(min(end+1, len(peek)))
	return comma, true
}

// openInput unwraps gzip and decodes the input to UTF-8, detecting the encoding unless forced.
// Detection: a byte-order mark decides; otherwise NUL bytes in alternate positions mean UTF-16;
// otherwise a sample that is valid UTF-8 means UTF-8; anything else is the code page Excel
// writes "CSV" in: CP949 (Korean Windows) or Shift-JIS (Japanese Windows) when the sample reads
// as Korean or Japanese text, else Windows-1252, the superset of Latin-1 that Excel writes on
// Western-European Windows (detectCodePage).
func openInput(raw io.Reader, forced string) (*bufio.Reader, Format, error) {
	var f Format
	br := bufio.NewReaderSize(raw, 256<<10)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		gz, err := gzip.NewReader(br)
		if err != nil {
			return nil, f, fmt.Errorf("the file looks gzip-compressed but is not readable as gzip: %w", err)
		}
		f.Gzip = true
		br = bufio.NewReaderSize(gz, 256<<10)
	}
	sample, err := br.Peek(sniffBytes)
	if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
		what := "the file"
		if f.Gzip {
			what = "the gzip file"
		}
		return nil, f, fmt.Errorf("%s could not be read: it may be truncated or corrupt: %w", what, err)
	}
	if len(sample) == 0 {
		return nil, f, fmt.Errorf("the file is empty")
	}

	var enc encoding.Encoding
	switch {
	case bytes.HasPrefix(sample, []byte{0xEF, 0xBB, 0xBF}):
		f.Encoding, f.BOM = "utf-8", true
		br.Discard(3)
	case bytes.HasPrefix(sample, []byte{0xFF, 0xFE}):
		f.Encoding, f.BOM, enc = "utf-16le", true, unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM)
	case bytes.HasPrefix(sample, []byte{0xFE, 0xFF}):
		f.Encoding, f.BOM, enc = "utf-16be", true, unicode.UTF16(unicode.BigEndian, unicode.ExpectBOM)
	case forced != "":
		e, name, err := lookupEncoding(forced)
		if err != nil {
			return nil, f, err
		}
		f.Encoding, enc = name, e
	default:
		f.Encoding, enc = detectEncoding(sample)
		if enc == nil { // UTF-8 by its first sniffBytes only
			f.fallback = &cp1252Fallback{}
		}
	}
	if forced != "" && f.BOM && !sameEncoding(forced, f.Encoding) {
		return nil, f, fmt.Errorf("--encoding %s was given but the file starts with a %s byte-order mark", forced, f.Encoding)
	}
	switch {
	case enc != nil:
		br = bufio.NewReaderSize(enc.NewDecoder().Reader(br), 256<<10)
	case f.fallback != nil:
		br = bufio.NewReaderSize(transform.NewReader(br, f.fallback), 256<<10)
	}
	if f.Encoding == "utf-8" || f.Encoding == "" {
		f.Encoding = "utf-8"
	}
	// Excel for Mac once ended lines with a bare CR; such a file would read as one line.
	if decoded, _ := br.Peek(sniffBytes); bytes.IndexByte(decoded, '\n') < 0 && bytes.IndexByte(decoded, '\r') >= 0 {
		f.CROnly = true
		br = bufio.NewReaderSize(crToLF{br}, 256<<10)
	}
	return br, f, nil
}

func detectEncoding(sample []byte) (string, encoding.Encoding) {
	if le, be := nulPattern(sample); le || be {
		if le {
			return "utf-16le", unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM)
		}
		return "utf-16be", unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM)
	}
	// The sample may end in the middle of a multi-byte character.
	trimmed := sample
	for i := 0; i < utf8.UTFMax && len(trimmed) > 0 && !utf8.Valid(trimmed); i++ {
		trimmed = trimmed[:len(trimmed)-1]
	}
	if utf8.Valid(trimmed) || mostlyUTF8(trimmed) {
		// Mostly UTF-8: the stray bytes are read as Windows-1252 one by one (cp1252Fallback),
		// as they would be past the sample.
		return "utf-8", nil
	}
	return detectCodePage(sample)
}

// mostlyUTF8 reports whether b holds at least as many UTF-8 characters that Windows-1252 text
// does not make by chance as bytes that are not UTF-8: a UTF-8 list with a row pasted from a
// Windows-1252 one. Read whole as Windows-1252, every name of it was mangled (José as JosÃ©) for
// one stray byte.
//
// By chance: in Windows-1252, a capital accented letter followed by punctuation ("É" and a
// non-breaking space, "É" and a closing quote: C9 A0, C9 94) is a valid two-byte UTF-8
// character, and counting those, a Windows-1252 list was taken for UTF-8 and its names
// mangled the other way. So only the characters UTF-8 text is made of count: the accented
// Latin letters (lead bytes C2 and C3: é is C3 A9), three- or four-byte characters (curly
// quotes, Korean) and two-byte characters next to another (a Cyrillic or Greek word) — which
// Windows-1252 text makes only when it is already mojibake.
func mostlyUTF8(b []byte) bool {
	var utf, invalid int
	prevMulti := false // the character before was a valid multi-byte one
	for len(b) > 0 {
		if b[0] < utf8.RuneSelf {
			b, prevMulti = b[1:], false
			continue
		}
		r, n := utf8.DecodeRune(b)
		switch {
		case r == utf8.RuneError && n == 1:
			invalid++
			prevMulti = false
		case n > 2 || b[0] == 0xC2 || b[0] == 0xC3:
			utf++
			prevMulti = true
		default:
			// Two two-byte characters in a row — a Cyrillic, Greek or Polish word ("Иван") —
			// are UTF-8's; one alone may be Windows-1252 by chance.
			if prevMulti {
				utf++
			}
			prevMulti = true
		}
		b = b[n:]
	}
	return utf > 0 && utf >= invalid
}

// nulPattern reports UTF-16 without a BOM: in mostly-ASCII text, every other byte is NUL.
func nulPattern(sample []byte) (le, be bool) {
	n := min(len(sample), 4096) &^ 1
	if n < 4 {
		return false, false
	}
	var even, odd int
	for i := 0; i < n; i += 2 {
		if sample[i] == 0 {
			even++
		}
		if sample[i+1] == 0 {
			odd++
		}
	}
	half := n / 2
	return odd > half*3/4 && even == 0, even > half*3/4 && odd == 0
}

// lookupEncoding resolves an encoding name as the WHATWG Encoding Standard does ("latin1" and
// "iso-8859-1" are windows-1252 there, as in every browser; "windows-949" is euc-kr, "sjis"
// and "windows-31j" shift_jis), plus the UTF-16 byte orders, and the names Windows gives its
// Korean and Japanese code pages, which the standard lacks ("cp949", "cp932").
func lookupEncoding(name string) (encoding.Encoding, string, error) {
	switch strings.ToLower(name) {
	case "cp949", "ms949", "uhc":
		name = "euc-kr"
	case "cp932":
		name = "shift_jis"
	case "utf-8", "utf8":
		return nil, "utf-8", nil
	case "utf-16le", "utf16le":
		return unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM), "utf-16le", nil
	case "utf-16be", "utf16be":
		return unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM), "utf-16be", nil
	case "cp850", "ibm850", "850", "dos", "ms-dos":
		// Excel's "CSV (MS-DOS)": not among the web's encodings that htmlindex knows, and a
		// list saved so could not be read right at all (a review).
		return charmap.CodePage850, "ibm850", nil
	case "cp437", "ibm437", "437":
		return charmap.CodePage437, "ibm437", nil
	case "mac", "macroman", "mac-roman":
		name = "macintosh" // Excel's "CSV (Macintosh)"
	}
	enc, err := htmlindex.Get(name)
	if err != nil {
		return nil, "", fmt.Errorf("unknown encoding %q (try utf-8, utf-16le, windows-1252, latin1, euc-kr, shift_jis, macintosh or cp850)", breach.Clip(name))
	}
	canonical, _ := htmlindex.Name(enc)
	return enc, canonical, nil
}

func sameEncoding(forced, detected string) bool {
	_, name, err := lookupEncoding(forced)
	return err == nil && name == detected
}

// detectDelimiter picks ',', ';' or tab: the one that occurs most often, outside quotes, in the
// header line. Excel writes ';' where the decimal separator is a comma (Peru, France…).
func detectDelimiter(br *bufio.Reader) byte {
	sample, _ := br.Peek(sniffBytes)
	counts := map[byte]int{}
	inQuote := false
	for _, c := range sample {
		if c == '"' {
			inQuote = !inQuote
			continue
		}
		if inQuote {
			continue
		}
		if c == '\n' {
			break
		}
		if c == ',' || c == ';' || c == '\t' {
			counts[c]++
		}
	}
	best := byte(',')
	for _, c := range []byte{';', '\t'} {
		if counts[c] > counts[best] {
			best = c
		}
	}
	return best
}
