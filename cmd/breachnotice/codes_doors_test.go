package main

import (
	"encoding/csv"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/breachnotice/breachnotice/internal/breach"
)

// codesFile is the example vendor file: 30 codes for the example list's customers without a
// code of their own.
const codesFile = "../../examples/codes.csv"

// TestDoors_CodesImportAndExportAreTheSameThroughEveryDoor: `codes import`, POST …/codes and
// the console's upload fill the pool alike — the same codes to the same customers, in file and
// list order — and `codes export`, GET …/codes/export.csv and the console's download give the
// same codes, with the same audit rows through each door.
func TestDoors_CodesImportAndExportAreTheSameThroughEveryDoor(t *testing.T) {
	env := newDoorEnv(t)
	cli, api, console := cliDoor{env}, apiDoor{env}, consoleDoor{env}
	type outcome struct {
		pool  string
		codes []string
		audit []string
	}
	exported := func(t *testing.T, body string) []string {
		rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
		if err != nil || len(rows) < 2 || !slices.Equal(rows[0], []string{"code", "reference"}) {
			t.Fatalf("export: %v\n%.300s", err, body)
		}
		var codes []string
		for _, r := range rows[1:] {
			codes = append(codes, r[0])
		}
		return codes
	}
	run := map[string]func(t *testing.T, id string) outcome{
		"cli": func(t *testing.T, id string) outcome {
			out := cli.run(t, "codes", "import", "--campaign", id, codesFile)
			if !strings.Contains(out, "30 lines read: 30 codes added, 0 rejected") {
				t.Errorf("codes import said:\n%s", out)
			}
			status := cli.run(t, "codes", "status", "--campaign", id)
			return outcome{pool: strings.TrimSpace(status), codes: exported(t, cli.run(t, "codes", "export", "--campaign", id))}
		},
		"api": func(t *testing.T, id string) outcome {
			f, _ := os.Open(codesFile)
			defer f.Close()
			api.call(t, "POST", "/api/v1/campaigns/"+id+"/codes?filename=codes.csv", "text/csv", f, http.StatusCreated)
			var p struct {
				Pool struct{ Size, Assigned, Free, Missing int64 }
			}
			json.Unmarshal([]byte(api.call(t, "GET", "/api/v1/campaigns/"+id+"/codes", "", nil, http.StatusOK)), &p)
			return outcome{pool: poolText(p.Pool.Size, p.Pool.Assigned, p.Pool.Free, p.Pool.Missing),
				codes: exported(t, api.call(t, "GET", "/api/v1/campaigns/"+id+"/codes/export.csv", "", nil, http.StatusOK))}
		},
		"console": func(t *testing.T, id string) outcome {
			body := &strings.Builder{}
			mw := multipart.NewWriter(body)
			part, _ := mw.CreateFormFile("file", "codes.csv")
			f, _ := os.Open(codesFile)
			io.Copy(part, f)
			f.Close()
			mw.Close()
			req, _ := http.NewRequestWithContext(t.Context(), "POST", env.srv.URL+"/campaigns/"+id+"/codes", strings.NewReader(body.String()))
			req.Header.Set("Content-Type", mw.FormDataContentType())
			req.Header.Set("Sec-Fetch-Site", "same-origin")
			req.Header.Set("Origin", env.srv.URL)
			resp := env.send(t, env.browser, req)
			if page := bodyOf(resp); resp.StatusCode != http.StatusOK || !strings.Contains(page, `id="codes-added">30<`) {
				t.Fatalf("upload codes: %d\n%.800s", resp.StatusCode, page)
			}
			page := console.get(t, "/campaigns/"+id, http.StatusOK)
			if !strings.Contains(page, `id="codes-export"`) {
				t.Errorf("the campaign page offers no codes download")
			}
			return outcome{pool: poolFromPage(t, page), codes: exported(t, console.get(t, "/campaigns/"+id+"/codes.csv", http.StatusOK))}
		},
	}
	var want *outcome
	for _, name := range []string{"cli", "api", "console"} {
		t.Run(name, func(t *testing.T) {
			id := cli.create(t)
			cli.importList(t, id, "../../examples/customers.csv")
			before := len(env.auditTrail(t, id))
			got := run[name](t, id)
			got.audit = env.auditTrail(t, id)[before:]
			if want == nil {
				want = &got
				if len(got.codes) == 0 || len(got.codes) >= 30 || len(got.audit) != 2 ||
					!strings.HasPrefix(got.audit[0], "codes.import ") || !strings.HasPrefix(got.audit[1], "codes.exported ") {
					t.Fatalf("first door: %+v", got)
				}
				return
			}
			if got.pool != want.pool || !slices.Equal(got.codes, want.codes) || !slices.Equal(got.audit, want.audit) {
				t.Errorf("the %s door differs from the command line's:\n%+v\nwant\n%+v", name, got, *want)
			}
		})
	}
}

func poolText(size, assigned, free, missing int64) string {
	return poolLine(&breach.CodePool{Size: size, Assigned: assigned, Free: free, Missing: missing})
}

// poolFromPage reads the pool's counts off the campaign page.
func poolFromPage(t *testing.T, page string) string {
	t.Helper()
	m := regexp.MustCompile(`id="code-pool">(\d+) codes in the pool: (\d+) assigned, (\d+) free\.(?: <strong>(\d+) customers)?`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no pool on the campaign page")
	}
	n := func(s string) int64 { v, _ := strconv.ParseInt(s, 10, 64); return v }
	return poolText(n(m[1]), n(m[2]), n(m[3]), n(m[4]))
}
