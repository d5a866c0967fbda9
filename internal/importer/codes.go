package importer

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/breachnotice/breachnotice/internal/breach"
)

// codeColumns are the header names of the code column of a vendor's file of enrolment codes,
// compared in lower case with spaces and hyphens as underscores. Other columns (batch numbers,
// expiry dates, the vendor's own references) are ignored.
var codeColumns = []string{"code", "enrolment_code", "enrollment_code", "activation_code"}

// CodeReader reads the file of enrolment codes an identity-protection vendor delivers (a CSV
// with a code column; see breach.CodePool), one code at a time, with the list importer's
// reading: UTF-8 with or without BOM, UTF-16, Windows-1252, gzip; comma, semicolon or tab;
// lines and fields bounded (MaxRowBytes, MaxFieldBytes), so a file of millions of codes, or a
// broken one, is read in bounded memory. A line that cannot give a code comes back with its
// reason, never dropped.
type CodeReader struct {
	rr     *recordReader
	col    int
	width  int
	lines  int64
	format Format
}

// OpenCodes reads the header of a codes file and finds its code column; a file without one, or
// unreadable, is an EINVALID error saying so.
func OpenCodes(src io.Reader) (*CodeReader, error) {
	in, format, err := openInput(src, "")
	if err != nil {
		return nil, breach.Errorf(breach.EINVALID, "%v", err)
	}
	comma := detectDelimiter(in)
	format.Delimiter = string(comma)
	rr := newRecordReader(in, comma)
	header, err := rr.Read()
	if errors.Is(err, io.EOF) {
		return nil, breach.Errorf(breach.EINVALID, "the file is empty: a header line with a code column is expected, then one code a line")
	}
	if err != nil {
		return nil, breach.Errorf(breach.EINVALID, "the file could not be read: %v", err)
	}
	if header.problem != "" {
		return nil, breach.Errorf(breach.EINVALID, "line %d, the header, cannot be read: %s", header.line, header.problem)
	}
	col := -1
	for i, name := range header.fields {
		name = strings.ToLower(strings.TrimSpace(name))
		name = strings.NewReplacer(" ", "_", "-", "_").Replace(name)
		for _, want := range codeColumns {
			if name == want && col < 0 {
				col = i
			}
		}
	}
	if col < 0 {
		shown := strings.Join(header.fields, string(comma))
		if len(shown) > 200 {
			shown = shown[:200] + "…"
		}
		return nil, breach.Errorf(breach.EINVALID, "line %d, the header, has no code column (it reads %q): name the column of codes %q", header.line, shown, codeColumns[0])
	}
	rr.width = len(header.fields)
	rr.cuttable = make([]bool, rr.width)
	return &CodeReader{rr: rr, col: col, width: rr.width, format: format}, nil
}

// Format is what the reader found out about the file's bytes.
func (cr *CodeReader) Format() Format { return cr.format }

// Next returns the next line's code, trimmed (Excel's ="…" unwrapped), or the reason it gives
// none: a broken line, no value, a value that is not an enrolment code. ok is false after the
// last line; an error means the file could not be read to its end.
func (cr *CodeReader) Next() (pc breach.PoolCode, ok bool, err error) {
	rec, err := cr.rr.Read()
	if errors.Is(err, io.EOF) {
		return pc, false, nil
	}
	if err != nil {
		return pc, false, breach.Errorf(breach.EINVALID, "the file could not be read to its end (after %d lines of codes): it may be truncated or corrupt: %v", cr.lines, err)
	}
	cr.lines++
	pc.Line = rec.line
	switch {
	case rec.problem != "":
		pc.Reason = rec.problem
	case cr.col >= len(rec.fields):
		pc.Reason = fmt.Sprintf("the line has %d fields, and the code is in column %d", len(rec.fields), cr.col+1)
	default:
		pc.Code = strings.TrimSpace(unwrapExcelText(strings.TrimSpace(rec.fields[cr.col])))
		switch {
		case pc.Code == "":
			pc.Reason = "the code is empty"
		case !breach.IsEnrolmentCode(pc.Code):
			pc.Reason = "not an enrolment code: " + breach.EnrolmentCodeRule
		}
	}
	if pc.Reason != "" {
		// A rejected line's value is not kept: it is not a code, and could be anything.
		pc.Code = ""
	}
	return pc, true, nil
}
