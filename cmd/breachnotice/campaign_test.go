package main

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCLI_StatusByLocaleAndExportOfACancelledCampaign(t *testing.T) {
	t.Setenv("BREACHNOTICE_SECRET", testSecret)
	id := createCampaign(t)
	for _, args := range [][]string{
		{"import", "--campaign", id, "../../examples/customers.csv"},
		{"campaign", "approve", id},
		{"campaign", "start", id},
		// Cancelled before any worker planned it: every customer gets a failed delivery.
		{"campaign", "cancel", id},
	} {
		if _, stderr, err := cli(t, "", args...); err != nil {
			t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, stderr)
		}
	}
	out, stderr, err := cli(t, "", "campaign", "status", id)
	if err != nil {
		t.Fatalf("status: %v\n%s", err, stderr)
	}
	for _, want := range []string{"state: cancelled", "ko email", "fr sms", "es email"} {
		if !strings.Contains(out, want) {
			t.Errorf("status lacks %q:\n%s", want, out)
		}
	}

	file := filepath.Join(t.TempDir(), "proof.csv")
	if _, stderr, err := cli(t, "", "campaign", "export", id, "-o", file); err != nil {
		t.Fatalf("export: %v\n%s", err, stderr)
	}
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil || len(rows) != 46 {
		t.Fatalf("export = %d rows, %v; want a header and 45 deliveries", len(rows), err)
	}
	if strings.Join(rows[0], ",") != "customer_id,name,channel,address,locale,state,attempts,provider_id,error,fallback,possible_duplicate,sent_at,updated_at,reference,told_with" {
		t.Errorf("header = %q", rows[0])
	}
	locales := map[string]int{}
	for _, r := range rows[1:] {
		locales[r[4]]++
		if r[5] != "failed" || !strings.Contains(r[8], "cancelled") || r[13] == "" {
			t.Errorf("row = %q, want failed as cancelled, with its reference code", r)
		}
		if r[2] == "sms" && !strings.HasPrefix(r[3], "'+") {
			t.Errorf("row = %q: the phone number is not escaped", r)
		}
	}
	if locales["es"] == 0 || locales["ko"] == 0 || locales["fr"] == 0 || locales["en"] == 0 || locales[""] != 0 {
		t.Errorf("locales = %v", locales)
	}

	// An export never writes over a file (one run as root with a slip of the path replaced
	// /etc/passwd), and leaves no temporary file behind.
	before, _ := os.ReadFile(file)
	if _, stderr, err := cli(t, "", "campaign", "export", id, "-o", file); err == nil || !strings.Contains(stderr, "exists") {
		t.Errorf("export over an existing file: %v, %q; want it refused", err, stderr)
	}
	if after, _ := os.ReadFile(file); !bytes.Equal(after, before) {
		t.Error("the refused export changed the existing file")
	}
	if left, _ := filepath.Glob(filepath.Join(filepath.Dir(file), ".*")); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
	// Nor does a preview, which writes a customer's notice for its owner's eyes only.
	notice := filepath.Join(t.TempDir(), "notice.html")
	if _, stderr, err := cli(t, "", "preview", "--campaign", id, "--sample", "--locale", "es", "--json", "--out", notice); err != nil {
		t.Fatalf("preview: %v\n%s", err, stderr)
	}
	if st, err := os.Stat(notice); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("preview file: %v, %v; want mode 0600", st.Mode(), err)
	}
	if _, stderr, err := cli(t, "", "preview", "--campaign", id, "--sample", "--locale", "es", "--json", "--out", notice); err == nil || !strings.Contains(stderr, "exists") {
		t.Errorf("preview over an existing file: %v, %q; want it refused", err, stderr)
	}

	// A failed export leaves no file that looks complete.
	missing := filepath.Join(t.TempDir(), "no-such-dir", "proof.csv")
	if _, _, err := cli(t, "", "campaign", "export", id, "-o", missing); err == nil {
		t.Error("export into a missing directory succeeded")
	}
	if _, err := os.Stat(missing); !os.IsNotExist(err) {
		t.Errorf("the failed export left %s", missing)
	}
	// -o - is standard output, as in every other tool: it wrote a file named "-" (a review).
	if out, stderr, err := cli(t, "", "campaign", "export", id, "-o", "-"); err != nil || !strings.HasPrefix(out, "customer_id,") {
		t.Errorf("export -o -: %v, %q, stdout %.60q; want the CSV on standard output", err, stderr, out)
	}
	if _, err := os.Stat("-"); !os.IsNotExist(err) {
		t.Errorf("export -o - made a file named -: %v", err)
		os.Remove("-")
	}
	if out, stderr, err := cli(t, "", "campaign", "export", "6f1f3e56-0000-4000-8000-000000000000"); err == nil ||
		!strings.Contains(stderr, "not found") || out != "" {
		t.Errorf("export of an unknown campaign: %v, %q, stdout %q; want not found and no CSV", err, stderr, out)
	}
}

// import --rejects naming a file that exists is refused before the import, not after it has
// committed: a script reading the exit code would take a completed import for a failed one.
func TestCLI_ImportRefusesAnExistingRejectsFileBeforeImporting(t *testing.T) {
	t.Setenv("BREACHNOTICE_SECRET", testSecret)
	id := createCampaign(t)
	existing := filepath.Join(t.TempDir(), "rejects.csv")
	if err := os.WriteFile(existing, []byte("keep\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, stderr, err := cli(t, "", "import", "--campaign", id, "--json", "--rejects", existing, "../../examples/customers.csv")
	if err == nil || !strings.Contains(stderr, "exists") || out != "" {
		t.Fatalf("import --rejects over an existing file: %v, %q, stdout %q; want it refused", err, stderr, out)
	}
	if b, _ := os.ReadFile(existing); string(b) != "keep\n" {
		t.Errorf("the existing file was changed: %q", b)
	}
	// Nothing was imported: the same list now brings every customer.
	out, stderr, err = cli(t, "", "import", "--campaign", id, "--json", "../../examples/customers.csv")
	if err != nil || !strings.Contains(out, `"accepted":49`) {
		t.Errorf("the import after the refusal: %v %s %s; want the list's 49 customers accepted now", err, out, stderr)
	}
}

// The approval says what it decided of shared addresses — one person's customer_ids told once,
// an address given to many different customers (a placeholder?) — before anyone starts sending.
func TestCLI_ApproveSaysWhatItDecidedOfSharedAddresses(t *testing.T) {
	t.Setenv("BREACHNOTICE_SECRET", testSecret)
	id := createCampaign(t)
	var list strings.Builder
	list.WriteString("customer_id,name,email,phone,country\nF1,Ana Lopez,fam@example.com,,PE\nF2,Ana Lopez,FAM@example.com,,PE\n")
	for i := range 21 {
		fmt.Fprintf(&list, "P%d,Cliente %d,sinemail@example.com,+519876543%02d,PE\n", i, i, i)
	}
	path := filepath.Join(t.TempDir(), "list.csv")
	if err := os.WriteFile(path, []byte(list.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, stderr, err := cli(t, "", "import", "--campaign", id, path); err != nil {
		t.Fatalf("import: %v\n%s", err, stderr)
	}
	out, stderr, err := cli(t, "", "campaign", "approve", id)
	if err != nil {
		t.Fatalf("approve: %v\n%s", err, stderr)
	}
	for _, want := range []string{"one notice per person and address: 1 customer_ids told by the email, 0 by the SMS, 0 by the letter",
		"shared addresses: 21 customers' email, 0 customers' phone and 0 customers' postal address are also a different customer's"} {
		if !strings.Contains(out, want) {
			t.Errorf("approve's output lacks %q:\n%s", want, out)
		}
	}
}
