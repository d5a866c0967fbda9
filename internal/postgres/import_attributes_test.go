package postgres_test

import (
	"fmt"
	"maps"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/importer"
)

// TestImport_AttributesSurviveBothRoads: a first list (direct road, with every customer given
// twice so that the second rows go to the side buffer and the staging table, and rejected rows
// in between) and a second list into the same campaign (staged road). Tiny batches and several
// workers: any aliasing between rows' attribute slices would show as a wrong value.
func TestImport_AttributesSurviveBothRoads(t *testing.T) {
	db := open(t)
	c := newCampaign(t, db)
	im, err := importer.New(db)
	if err != nil {
		t.Fatal(err)
	}
	const n = 5000
	var b strings.Builder
	b.WriteString("customer_id,email,city,zip,state,first,second\n")
	row := func(i int, pass string) {
		email := fmt.Sprintf("c%d@example.com", i)
		if i%5 == 3 && pass == "second" {
			email = "bad" // rejected after its attributes were appended
		}
		first, second := "", ""
		if pass == "first" {
			first = fmt.Sprintf("f-%d", i)
		} else {
			second = fmt.Sprintf("s-%d", i)
		}
		fmt.Fprintf(&b, "C%d,%s,city-%d-%s,zip-%d,,%s,%s\n", i, email, i, pass, i, first, second)
	}
	for i := range n {
		row(i, "first")
	}
	for i := range n {
		row(i, "second")
	}
	for _, opts := range []importer.Options{{Workers: 4, BatchRows: 7}} {
		imp := &breach.Import{Filename: "list.csv", CreatedBy: "test"}
		if _, err := im.Run(t.Context(), c, imp, strings.NewReader(b.String()), opts); err != nil {
			t.Fatal(err)
		}
		if imp.Rejected != n/5 {
			t.Fatalf("import %+v", imp)
		}
	}
	check := func(stage string, extra func(i int) map[string]string) {
		for _, i := range []int{0, 1, 2, 3, 4, 998, 1499, 2999, 4097, 4998, 4999} {
			r := recipient(t, db, c, fmt.Sprintf("C%d", i))
			want := map[string]string{"city": fmt.Sprintf("city-%d-second", i), "zip": fmt.Sprintf("zip-%d", i),
				"first": fmt.Sprintf("f-%d", i), "second": fmt.Sprintf("s-%d", i)}
			if i%5 == 3 {
				want = map[string]string{"city": fmt.Sprintf("city-%d-first", i), "zip": fmt.Sprintf("zip-%d", i), "first": fmt.Sprintf("f-%d", i)}
			}
			maps.Copy(want, extra(i))
			if !maps.Equal(r.Attributes, want) {
				t.Errorf("%s: C%d attributes %v, want %v", stage, i, r.Attributes, want)
			}
		}
	}
	check("direct", func(int) map[string]string { return nil })

	// The staged road: the campaign has its partition now.
	var b2 strings.Builder
	b2.WriteString("customer_id,email,third\n")
	for i := range n {
		fmt.Fprintf(&b2, "C%d,c%d@example.com,t-%d\n", i, i, i)
	}
	b2.WriteString("Z1,z1@example.com,\n")
	imp := &breach.Import{Filename: "list2.csv", CreatedBy: "test"}
	if _, err := im.Run(t.Context(), c, imp, strings.NewReader(b2.String()), importer.Options{Workers: 4, BatchRows: 5}); err != nil {
		t.Fatal(err)
	}
	check("staged", func(i int) map[string]string { return map[string]string{"third": fmt.Sprintf("t-%d", i)} })

	// A row without attributes stores {} (not NULL, not "null").
	conn, err := pgx.Connect(t.Context(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(t.Context())
	var raw string
	if err := conn.QueryRow(t.Context(), `SELECT attributes::text FROM recipients WHERE campaign_id = $1 AND customer_id = 'Z1'`, c.ID).Scan(&raw); err != nil {
		t.Fatal(err)
	}
	if raw != "{}" {
		t.Errorf("Z1 attributes %s, want {}", raw)
	}
}
