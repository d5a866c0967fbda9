package importer

import (
	"archive/zip"
	"bufio"
	"bytes"
	"strings"
	"testing"
)

// TestInlineSheet_RewritesOnlySharedStringCells: the byte-level rewrite of a worksheet turns
// each shared-string cell into an inline one with its text, prefixed or not, and leaves every
// other byte as it was: other cells, attributes holding '>' or "t=", comments, CDATA.
func TestInlineSheet_RewritesOnlySharedStringCells(t *testing.T) {
	var sst bytes.Buffer
	zw := zip.NewWriter(&sst)
	w, _ := zw.Create("xl/sharedStrings.xml")
	w.Write([]byte(`<?xml version="1.0"?><sst xmlns="m" count="3"><si><t>Ana &amp; Bob</t></si><si/>` +
		`<si><r><t>Rosa </t></r><r><rPr><b/></rPr><t xml:space="preserve">Quispe</t></r></si></sst>`))
	zw.Close()
	z, _ := zip.NewReader(bytes.NewReader(sst.Bytes()), int64(sst.Len()))
	table, err := newTextTable()
	if err != nil {
		t.Fatal(err)
	}
	defer table.close()
	if err := table.load(z.File[0]); err != nil || table.n != 3 {
		t.Fatalf("load: %v, %d texts", err, table.n)
	}
	sheet := `<?xml version="1.0"?><!-- <c t="s"><v>0</v></c> --><worksheet xmlns="m"><sheetData>` +
		`<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" s="3"><v>42</v></c><c r="C1" t="s" s="2"><v>2</v></c><c r="D1" t="s"><v>1</v></c></row>` +
		`<row r="2"><x:c r="A2" t='s' note="a>b t=&quot;s&quot;"><x:v>0</x:v></x:c><c r="B2" t="str"><f>1+1</f><v>2</v></c><c r="C2"/></row>` +
		`</sheetData><extLst><![CDATA[<c t="s"><v>9</v></c>]]></extLst></worksheet>`
	var out bytes.Buffer
	if err := inlineSheet(&out, strings.NewReader(sheet), table); err != nil {
		t.Fatal(err)
	}
	want := `<?xml version="1.0"?><!-- <c t="s"><v>0</v></c> --><worksheet xmlns="m"><sheetData>` +
		`<row r="1"><c r="A1" t="inlineStr"><is><t>Ana &amp; Bob</t></is></c><c r="B1" s="3"><v>42</v></c>` +
		`<c r="C1" t="inlineStr" s="2"><is><r><t>Rosa </t></r><r><rPr><b/></rPr><t xml:space="preserve">Quispe</t></r></is></c>` +
		`<c r="D1" t="inlineStr"><is></is></c></row>` +
		`<row r="2"><x:c r="A2" t='inlineStr' note="a>b t=&quot;s&quot;"><x:is><t>Ana &amp; Bob</t></x:is></x:c><c r="B2" t="str"><f>1+1</f><v>2</v></c><c r="C2"/></row>` +
		`</sheetData><extLst><![CDATA[<c t="s"><v>9</v></c>]]></extLst></worksheet>`
	if out.String() != want {
		t.Errorf("got  %s\nwant %s", out.String(), want)
	}
	if err := inlineSheet(&out, strings.NewReader(`<c t="s"><v>7</v></c>`), table); err == nil {
		t.Errorf("an index past the table was accepted")
	}
	if err := scanElements(bufio.NewReader(strings.NewReader(`<c t="s"><v>`+strings.Repeat("9", maxElement)+`</v></c>`)), "c", func([]byte) error { return nil }, nil, nil); err == nil {
		t.Errorf("a cell over %d MiB was held whole", maxElement>>20)
	}
}
