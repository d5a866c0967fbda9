package postgres

import (
	"reflect"
	"strings"
	"testing"
	"unsafe"

	"github.com/breachnotice/breachnotice/internal/breach"
)

// TestDetach_SharesNoStringWithItsRecord: every string of a held-back row, whatever fields
// ImportRow grows, is a copy; one left pointing into its record would keep the record's whole
// text alive (a megabyte a row at worst) for as long as the row waits for the staging table.
func TestDetach_SharesNoStringWithItsRecord(t *testing.T) {
	record := strings.Repeat("x", 1<<16)
	var row breach.ImportRow
	n := 0
	fill := func(v reflect.Value) { // every string field, a slice of the record
		v.SetString(record[n : n+3])
		n += 3
	}
	walkStrings(reflect.ValueOf(&row).Elem(), fill)
	row.Extra = []breach.Attribute{{Name: "plan", Value: record[n : n+3]}}
	if n < 10 {
		t.Fatalf("only %d string fields found", n/3)
	}

	d, size := detach(&row)
	if size < n {
		t.Errorf("detach counts %d bytes for %d bytes of values", size, n)
	}
	start := uintptr(unsafe.Pointer(unsafe.StringData(record)))
	inRecord := func(s string) bool {
		p := uintptr(unsafe.Pointer(unsafe.StringData(s)))
		return s != "" && p >= start && p < start+uintptr(len(record))
	}
	walkStrings(reflect.ValueOf(&d).Elem(), func(v reflect.Value) {
		if inRecord(v.String()) {
			t.Errorf("a field (%q) still points into its record", v.String())
		}
	})
	for _, a := range d.Extra {
		if inRecord(a.Value) {
			t.Errorf("attribute %s still points into its record", a.Name)
		}
	}
	if &d.Extra[0] == &row.Extra[0] {
		t.Error("the attributes share their slice with the batch's chunk")
	}
}

// walkStrings calls f on every settable string field of v, embedded and nested structs
// included.
func walkStrings(v reflect.Value, f func(reflect.Value)) {
	switch v.Kind() {
	case reflect.String:
		if v.CanSet() {
			f(v)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			walkStrings(v.Field(i), f)
		}
	}
}
