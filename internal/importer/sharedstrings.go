package importer

import (
	"archive/zip"
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// Excel keeps every distinct text of a workbook once, in its shared-strings table
// (xl/sharedStrings.xml), and a text cell holds only its index in it. To read a cell, excelize
// needs the table at hand: in memory when it is small, and otherwise in a temporary file with
// an index in memory of about 90 bytes a text (measured: a million-row list of three text
// columns took 300 MB). That, not the rows, would grow with the list.
//
// So a workbook whose table is larger than unzipInMemory is rewritten before excelize opens
// it: the table goes to a temporary file of the texts' XML and one of their offsets (8 bytes a
// text, on disk), every text cell of the worksheets is written with its text inline (an
// inlineStr cell, which excelize reads from the row itself, number format and all), and the
// table left in the workbook is empty. The other parts are copied as they are, still
// compressed. Memory is then flat whatever the list's size: a window of each temporary file.

// sharedStringsPart is the shared-strings table's name in the zip, as Excel writes it.
const sharedStringsPart = "xl/sharedstrings.xml"

// inlineAbove is the size of a shared-strings table above which it is inlined (unzipInMemory:
// below it, excelize holds the table in memory, a few MB).
var inlineAbove uint64 = unzipInMemory

// inlineSharedStrings writes a copy of the workbook at path with its texts inline (see above),
// in a temporary file that cleanup removes.
func inlineSharedStrings(path string) (out string, cleanup func(), err error) {
	zr, err := zip.OpenReader(path)
	if err != nil {
		return "", nil, err
	}
	defer zr.Close()
	table, err := newTextTable()
	if err != nil {
		return "", nil, err
	}
	defer table.close()
	for _, e := range zr.File {
		if strings.EqualFold(strings.ReplaceAll(e.Name, `\`, "/"), sharedStringsPart) {
			if err := table.load(e); err != nil {
				return "", nil, fmt.Errorf("shared strings: %w", err)
			}
		}
	}
	f, err := os.CreateTemp("", "breachnotice-list-*.xlsx")
	if err != nil {
		return "", nil, err
	}
	cleanup = func() { f.Close(); os.Remove(f.Name()) }
	if err := writeInlined(f, zr, table); err != nil {
		cleanup()
		return "", nil, err
	}
	if err := f.Close(); err != nil {
		cleanup()
		return "", nil, err
	}
	return f.Name(), cleanup, nil
}

// writeInlined writes the rewritten workbook to w.
func writeInlined(w io.Writer, zr *zip.ReadCloser, table *textTable) error {
	zw := zip.NewWriter(w)
	for _, e := range zr.File {
		name := strings.ToLower(strings.ReplaceAll(e.Name, `\`, "/"))
		switch {
		case name == sharedStringsPart:
			dst, err := zw.Create(e.Name)
			if err != nil {
				return err
			}
			if _, err := io.WriteString(dst, `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>`+"\n"+
				`<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="0" uniqueCount="0"/>`); err != nil {
				return err
			}
		case strings.HasPrefix(name, "xl/worksheets/") && strings.HasSuffix(name, ".xml"):
			// Stored, not compressed: excelize unzips it again straight away.
			dst, err := zw.CreateHeader(&zip.FileHeader{Name: e.Name, Method: zip.Store, Modified: e.Modified})
			if err != nil {
				return err
			}
			src, err := e.Open()
			if err != nil {
				return err
			}
			err = inlineSheet(dst, src, table)
			src.Close()
			if err != nil {
				return fmt.Errorf("%s: %w", e.Name, err)
			}
		default:
			dst, err := zw.CreateRaw(&e.FileHeader)
			if err != nil {
				return err
			}
			src, err := e.OpenRaw()
			if err != nil {
				return err
			}
			if _, err := io.Copy(dst, src); err != nil {
				return err
			}
		}
	}
	return zw.Close()
}

// textTable is a shared-strings table on disk: the XML inside each <si> element, one after
// the other, and the end offset of each as 8 bytes.
type textTable struct {
	data, ends *os.File
	n          int64
	dataWin    window
	endsWin    window
}

func newTextTable() (*textTable, error) {
	data, err := os.CreateTemp("", "breachnotice-texts-*")
	if err != nil {
		return nil, err
	}
	ends, err := os.CreateTemp("", "breachnotice-texts-*")
	if err != nil {
		data.Close()
		os.Remove(data.Name())
		return nil, err
	}
	return &textTable{data: data, ends: ends, dataWin: window{f: data}, endsWin: window{f: ends}}, nil
}

func (t *textTable) close() {
	for _, f := range []*os.File{t.data, t.ends} {
		f.Close()
		os.Remove(f.Name())
	}
}

// load reads the table's <si> elements from e.
func (t *textTable) load(e *zip.File) error {
	rc, err := e.Open()
	if err != nil {
		return err
	}
	defer rc.Close()
	data, ends := bufio.NewWriterSize(t.data, 256<<10), bufio.NewWriterSize(t.ends, 64<<10)
	var end int64
	var buf [8]byte
	err = scanElements(bufio.NewReaderSize(rc, 256<<10), "si", func(inner []byte) error {
		if _, err := data.Write(inner); err != nil {
			return err
		}
		end += int64(len(inner))
		binary.LittleEndian.PutUint64(buf[:], uint64(end))
		_, err := ends.Write(buf[:])
		t.n++
		return err
	}, nil, nil)
	if err != nil {
		return err
	}
	if err := data.Flush(); err != nil {
		return err
	}
	return ends.Flush()
}

// text returns the XML inside the i-th <si> element.
func (t *textTable) text(i int64) ([]byte, error) {
	if i < 0 || i >= t.n {
		return nil, fmt.Errorf("shared string %d does not exist (the table has %d)", i, t.n)
	}
	var start int64
	if i > 0 {
		b, err := t.endsWin.at((i-1)*8, 8)
		if err != nil {
			return nil, err
		}
		start = int64(binary.LittleEndian.Uint64(b))
	}
	b, err := t.endsWin.at(i*8, 8)
	if err != nil {
		return nil, err
	}
	end := int64(binary.LittleEndian.Uint64(b))
	return t.dataWin.at(start, int(end-start))
}

// window reads a file through a cache of a few pages: the texts of a sheet are numbered in the
// order they first appear, so that a sheet's look-ups fall near the last new text (the
// frontier, moving on) or on the few texts that repeat (a language, a plan: early pages).
type window struct {
	f     *os.File
	pages map[int64]*page
	clock uint64
}

type page struct {
	data []byte
	used uint64
}

const (
	pageSize = 64 << 10
	maxPages = 32 // 2 MiB a file
)

// at returns the n bytes at off, valid until the next call.
func (w *window) at(off int64, n int) ([]byte, error) {
	if n == 0 {
		return nil, nil
	}
	first, last := off/pageSize, (off+int64(n)-1)/pageSize
	if first != last { // across pages: rare, read it as it is
		b := make([]byte, n)
		if _, err := w.f.ReadAt(b, off); err != nil {
			return nil, err
		}
		return b, nil
	}
	pg, err := w.page(first)
	if err != nil {
		return nil, err
	}
	from := int(off - first*pageSize)
	if from+n > len(pg) {
		return nil, io.ErrUnexpectedEOF
	}
	return pg[from : from+n], nil
}

func (w *window) page(k int64) ([]byte, error) {
	w.clock++
	if p, ok := w.pages[k]; ok {
		p.used = w.clock
		return p.data, nil
	}
	if w.pages == nil {
		w.pages = map[int64]*page{}
	}
	var p *page
	if len(w.pages) < maxPages {
		p = &page{data: make([]byte, pageSize)}
	} else { // reuse the least recently used
		var oldest int64
		for key, q := range w.pages {
			if p == nil || q.used < p.used {
				p, oldest = q, key
			}
		}
		delete(w.pages, oldest)
	}
	m, err := w.f.ReadAt(p.data[:pageSize], k*pageSize)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	p.data, p.used = p.data[:m], w.clock
	w.pages[k] = p
	return p.data, nil
}

// inlineSheet copies a worksheet's XML from src to dst, writing every shared-string cell
// (<c t="s"><v>N</v></c>) as an inline-string cell (<c t="inlineStr"><is>…</is></c>) with the
// table's text N.
func inlineSheet(dst io.Writer, src io.Reader, table *textTable) error {
	out := bufio.NewWriterSize(dst, 256<<10)
	err := scanElements(bufio.NewReaderSize(src, 256<<10), "c", nil, func(prefix string, start, inner []byte) ([]byte, error) {
		t, ok := attr(start, "t")
		if !ok || t != "s" {
			return nil, nil
		}
		v, ok := child(inner, "v")
		if !ok {
			return nil, nil
		}
		i, err := strconv.ParseInt(strings.TrimSpace(string(v)), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("a shared-string cell holds %q, not an index", v)
		}
		text, err := table.text(i)
		if err != nil {
			return nil, err
		}
		var b bytes.Buffer
		b.Grow(len(start) + len(text) + 32)
		b.Write(setAttr(start, "t", "inlineStr"))
		b.WriteString("<" + prefix + "is>")
		b.Write(text)
		b.WriteString("</" + prefix + "is></" + prefix + "c>")
		return b.Bytes(), nil
	}, out)
	if err != nil {
		return err
	}
	return out.Flush()
}

// maxElement bounds an element scanElements holds whole (a cell, a shared string): Excel's
// cells hold at most 32,767 characters.
const maxElement = 4 << 20

// scanElements reads XML from r and finds the elements whose local name is name (which do not
// nest). With collect, it calls collect with each one's content. With replace, it copies the
// XML to out, each such element replaced by what replace returns for it (its prefix, its start
// tag and its content), or kept when replace returns nil. It reads the markup byte by byte as
// XML defines it (quoted attribute values, comments, processing instructions, CDATA), without
// building a tree, so that memory stays flat however large the part.
func scanElements(r *bufio.Reader, name string, collect func(inner []byte) error,
	replace func(prefix string, start, inner []byte) ([]byte, error), out *bufio.Writer) error {
	var (
		in        bool   // inside an element of the name
		prefix    string // its prefix ("x:"), or ""
		start     []byte // its start tag
		inner     []byte // its content so far
		endTagBuf []byte
	)
	emit := func(b []byte) error {
		switch {
		case in:
			if len(inner)+len(b) > maxElement {
				return fmt.Errorf("an element <%s> is larger than %d MiB", name, maxElement>>20)
			}
			inner = append(inner, b...)
		case out != nil:
			_, err := out.Write(b)
			return err
		}
		return nil
	}
	var tag []byte
	for {
		// Text up to the next '<'.
		chunk, err := r.ReadSlice('<')
		if len(chunk) > 0 && chunk[len(chunk)-1] == '<' && err == nil {
			chunk = chunk[:len(chunk)-1]
		}
		if e := emit(chunk); e != nil {
			return e
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if errors.Is(err, io.EOF) {
			if in {
				return fmt.Errorf("the part ends inside an element <%s>", name)
			}
			return nil
		}
		if err != nil {
			return err
		}
		// A tag, a comment, a processing instruction or a CDATA section.
		if tag, err = readMarkup(r, tag[:0]); err != nil {
			return err
		}
		local, isEnd, isEmpty := tagName(tag)
		switch {
		case !in && !isEnd && local == name:
			if isEmpty {
				if collect != nil {
					if err := collect(nil); err != nil {
						return err
					}
				} else if err := emit(tag); err != nil {
					return err
				}
				continue
			}
			in, start, inner = true, append(start[:0], tag...), inner[:0]
			prefix = qualifiedPrefix(tag)
		case in && isEnd && local == name:
			in = false
			endTagBuf = append(endTagBuf[:0], tag...)
			if collect != nil {
				if err := collect(inner); err != nil {
					return err
				}
				continue
			}
			repl, err := replace(prefix, start, inner)
			if err != nil {
				return err
			}
			if repl != nil {
				if err := emit(repl); err != nil {
					return err
				}
				continue
			}
			for _, b := range [][]byte{start, inner, endTagBuf} {
				if err := emit(b); err != nil {
					return err
				}
			}
		default:
			if err := emit(tag); err != nil {
				return err
			}
		}
	}
}

// readMarkup reads, after a '<', the rest of a tag, comment, processing instruction or CDATA
// section, and returns it whole with its '<', appended to buf.
func readMarkup(r *bufio.Reader, buf []byte) ([]byte, error) {
	buf = append(buf, '<')
	var closing string
	if head, _ := r.Peek(8); bytes.HasPrefix(head, []byte("!--")) {
		closing = "-->"
	} else if bytes.HasPrefix(head, []byte("![CDATA[")) {
		closing = "]]>"
	} else if bytes.HasPrefix(head, []byte("?")) {
		closing = "?>"
	}
	var quote byte
	for {
		c, err := r.ReadByte()
		if err != nil {
			return buf, fmt.Errorf("the part ends inside markup: %w", err)
		}
		buf = append(buf, c)
		if len(buf) > maxElement {
			return buf, fmt.Errorf("markup longer than %d MiB", maxElement>>20)
		}
		switch {
		case closing != "":
			if c == '>' && bytes.HasSuffix(buf, []byte(closing)) {
				return buf, nil
			}
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '>':
			return buf, nil
		}
	}
}

// tagName returns the local name of a tag ("c" for <x:c r="A1">), and whether it is an end
// tag or an empty element. Comments and the like have no name.
func tagName(tag []byte) (local string, isEnd, isEmpty bool) {
	if len(tag) < 3 || tag[1] == '!' || tag[1] == '?' {
		return "", false, false
	}
	s := tag[1:]
	if s[0] == '/' {
		isEnd, s = true, s[1:]
	}
	isEmpty = bytes.HasSuffix(tag, []byte("/>"))
	end := bytes.IndexAny(s, " \t\r\n/>")
	if end < 0 {
		end = len(s)
	}
	qname := s[:end]
	if i := bytes.IndexByte(qname, ':'); i >= 0 {
		qname = qname[i+1:]
	}
	return string(qname), isEnd, isEmpty
}

// qualifiedPrefix returns a start tag's prefix with its colon ("x:"), or "".
func qualifiedPrefix(tag []byte) string {
	s := tag[1:]
	end := bytes.IndexAny(s, " \t\r\n/>")
	if end < 0 {
		end = len(s)
	}
	if i := bytes.IndexByte(s[:end], ':'); i >= 0 {
		return string(s[:i+1])
	}
	return ""
}

// attrSpan finds attribute name (unprefixed) in a start tag: the span of its value.
func attrSpan(tag []byte, name string) (from, to int, ok bool) {
	return findAttr(tag, func(n []byte) bool { return string(n) == name })
}

// findAttr finds the first attribute of a start tag whose name is, by match, the one looked
// for: the span of its value (quoted with " or ').
func findAttr(tag []byte, match func(name []byte) bool) (from, to int, ok bool) {
	i := bytes.IndexAny(tag, " \t\r\n")
	for i >= 0 && i < len(tag) {
		for i < len(tag) && (tag[i] == ' ' || tag[i] == '\t' || tag[i] == '\r' || tag[i] == '\n') {
			i++
		}
		eq := bytes.IndexByte(tag[i:], '=')
		if eq < 0 {
			return 0, 0, false
		}
		attrName := bytes.TrimSpace(tag[i : i+eq])
		j := i + eq + 1
		for j < len(tag) && tag[j] != '"' && tag[j] != '\'' {
			j++
		}
		if j >= len(tag) {
			return 0, 0, false
		}
		q := tag[j]
		k := bytes.IndexByte(tag[j+1:], q)
		if k < 0 {
			return 0, 0, false
		}
		if match(attrName) {
			return j + 1, j + 1 + k, true
		}
		i = j + 1 + k + 1
	}
	return 0, 0, false
}

// attr returns the value of attribute name of a start tag.
func attr(tag []byte, name string) (string, bool) {
	from, to, ok := attrSpan(tag, name)
	if !ok {
		return "", false
	}
	return string(tag[from:to]), true
}

// setAttr returns a copy of the start tag with attribute name's value replaced.
func setAttr(tag []byte, name, value string) []byte {
	from, to, ok := attrSpan(tag, name)
	if !ok {
		return tag
	}
	out := make([]byte, 0, len(tag)+len(value))
	out = append(out, tag[:from]...)
	out = append(out, value...)
	return append(out, tag[to:]...)
}

// child returns the text of the first child element with local name name in content.
func child(content []byte, name string) ([]byte, bool) {
	for i := 0; i < len(content); {
		lt := bytes.IndexByte(content[i:], '<')
		if lt < 0 {
			return nil, false
		}
		i += lt
		gt := bytes.IndexByte(content[i:], '>')
		if gt < 0 {
			return nil, false
		}
		tag := content[i : i+gt+1]
		i += gt + 1
		if local, isEnd, isEmpty := tagName(tag); local == name && !isEnd {
			if isEmpty {
				return nil, true
			}
			end := bytes.IndexByte(content[i:], '<')
			if end < 0 {
				return nil, false
			}
			return content[i : i+end], true
		}
	}
	return nil, false
}
