package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/importer"
	"github.com/breachnotice/breachnotice/internal/operation"
)

// importSummary is what `import --json` prints. read = accepted + merged + rejected, always.
type importSummary struct {
	ID         string `json:"id"`
	CampaignID string `json:"campaign_id"`
	Read       int64  `json:"read"`
	Accepted   int64  `json:"accepted"`
	Rejected   int64  `json:"rejected"`
	Merged     int64  `json:"merged"`
	Updated    int64  `json:"updated"`
	Warned     int64  `json:"warned"`
	// WarnedBy counts the warned rows by the field a warning is about.
	WarnedBy    map[string]int64 `json:"warned_by,omitempty"`
	Seconds     float64          `json:"seconds"`
	Encoding    string           `json:"encoding"`
	Delimiter   string           `json:"delimiter"`
	Sheet       string           `json:"sheet,omitempty"`
	RejectsFile string           `json:"rejects_file,omitempty"`
	// Warnings are the first of the rows kept with their name neutralised.
	Warnings []breach.Warning `json:"warnings,omitempty"`
}

func (a *app) importCommand() *cobra.Command {
	var (
		campaignID, encoding, sheet, rejectsFile string
		maps                                     []string
		asJSON                                   bool
	)
	cmd := &cobra.Command{
		Use:   "import --campaign ID [--map COLUMN=FIELD]… [--sheet NAME] [--rejects FILE] [--json] FILE|-",
		Short: "Load a list of affected customers (CSV, optionally gzipped, an Excel .xlsx or an OpenDocument .ods) into a campaign",
		Long: `Load a list of affected customers into a draft campaign.

The list is CSV in UTF-8 (with or without BOM), UTF-16, Windows-1252/Latin-1, or Korean or
Japanese Excel's CP949 (euc-kr) or Shift-JIS (detected, or forced with --encoding), separated by commas, semicolons or tabs (detected), optionally
gzipped — or a spreadsheet (Excel .xlsx or OpenDocument .ods; detected by its content), read
from its first visible sheet or the one --sheet names, each cell as the spreadsheet shows it. Columns are matched by header name (customer_id, email, phone, name or first_name +
last_name, locale, country, exposed, jurisdiction or state; common aliases too); --map names
the field of any other column, or drops it with --map COLUMN=-. Other columns are kept as
attributes for the notice templates.

Every row is accepted, merged into an earlier row of the same customer, or rejected with its
line number and reason (--rejects writes them as CSV). A name never rejects a row: markup,
control characters or an absurd length are neutralised and reported as warnings. Importing the
same list again changes nothing.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			stopProfile, err := startCPUProfile(a.cfg.CPUProfile)
			if err != nil {
				return err
			}
			defer stopProfile()
			mapping, err := importer.ParseMap(maps)
			if err != nil {
				return err
			}
			opts := importer.Options{Encoding: encoding, Sheet: sheet, Map: mapping}
			// The rejects file is a new file (createNew): refused now, before the import, not
			// after it has committed — a script would take the import for failed.
			if rejectsFile != "" {
				if _, err := os.Lstat(rejectsFile); err == nil {
					return errOutputExists(rejectsFile)
				}
			}
			src, name, size, err := openList(args[0])
			if err != nil {
				return err
			}
			defer src.Close()

			ops, done, err := a.operations(ctx)
			if err != nil {
				return err
			}
			defer done()
			var bar *progressBar
			if f, ok := a.stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
				bar = newProgressBar(a.stderr, size)
				opts.OnProgress, opts.ProgressEvery = bar.update, 200*time.Millisecond
			}
			start := time.Now()
			actor := cliActor()
			imp, err := ops.Import(ctx, actor, campaignID, operation.ImportRequest{Filename: name, List: src, Options: opts})
			if bar != nil {
				bar.finish()
			}
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			sum := importSummary{ID: imp.ID, CampaignID: imp.CampaignID, Read: imp.Read, Accepted: imp.Accepted,
				Rejected: imp.Rejected, Merged: imp.Merged, Updated: imp.Updated, Warned: imp.Warned, WarnedBy: imp.WarnedBy, Warnings: imp.Warnings,
				Seconds: time.Since(start).Seconds(), Encoding: imp.Encoding, Delimiter: imp.Delimiter, Sheet: imp.Sheet}
			if rejectsFile != "" && imp.Rejected > 0 {
				if err := writeRejects(ctx, ops, actor, imp, rejectsFile); err != nil {
					return err
				}
				sum.RejectsFile = rejectsFile
			}
			if asJSON {
				return json.NewEncoder(a.stdout).Encode(sum)
			}
			return a.printImport(ctx, ops, actor, name, sum)
		},
	}
	cmd.Flags().StringVar(&campaignID, "campaign", "", "campaign ID")
	cmd.Flags().StringArrayVar(&maps, "map", nil, "COLUMN=FIELD: the field a column holds (repeatable; FIELD - drops the column)")
	cmd.Flags().StringVar(&encoding, "encoding", "", "force the character encoding (utf-8, utf-16le, utf-16be, windows-1252, latin1, euc-kr, shift_jis, …)")
	cmd.Flags().StringVar(&sheet, "sheet", "", "the sheet of a spreadsheet (.xlsx, .ods) to read (default: the first visible one)")
	cmd.Flags().StringVar(&rejectsFile, "rejects", "", "write the rejected rows' line numbers and reasons to this CSV file")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the counts as one JSON object")
	_ = cmd.MarkFlagRequired("campaign")
	return cmd
}

// openList opens the list to import ("-" is standard input) and returns its name and size
// (0 when unknown).
func openList(path string) (io.ReadCloser, string, int64, error) {
	if path == "-" {
		return io.NopCloser(os.Stdin), "stdin", 0, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, "", 0, err
	}
	var size int64
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
		size = st.Size()
	}
	return f, breach.FileLabel(path), size, nil
}

// writeRejects writes an import's reject report to path (an audited read of the rows).
func writeRejects(ctx context.Context, ops *operation.Service, actor breach.Actor, imp *breach.Import, path string) error {
	var f *os.File
	err := ops.Rejects(ctx, actor, imp.CampaignID, imp.ID, func(*breach.Import) (io.Writer, error) {
		var err error
		f, err = createNew(path)
		return f, err
	})
	if f != nil {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(path) // ours (createNew): a partial report must not look complete
		}
	}
	if err != nil {
		return fmt.Errorf("write rejects to %s: %w", path, err)
	}
	return nil
}

// printImport prints the import's counts, its first rejects and its first warnings for a person.
func (a *app) printImport(ctx context.Context, ops *operation.Service, actor breach.Actor, name string, s importSummary) error {
	rate := float64(s.Read) / max(s.Seconds, 1e-9)
	format := fmt.Sprintf("%s, %q delimited", s.Encoding, s.Delimiter)
	if s.Sheet != "" {
		format = fmt.Sprintf("sheet %q", s.Sheet)
	}
	fmt.Fprintf(a.stdout, "Imported %s in %.1fs (%s, %.0f rows/s)\n", name, s.Seconds, format, rate)
	fmt.Fprintf(a.stdout, "  read      %d\n  accepted  %d  new recipients\n  merged    %d  into an earlier row or import of the same customer (%d recipients changed)\n  rejected  %d\n",
		s.Read, s.Accepted, s.Merged, s.Updated, s.Rejected)
	if err := a.printRejects(ctx, ops, actor, s); err != nil {
		return err
	}
	if s.Warned > 0 {
		fmt.Fprintf(a.stdout, "  warnings  %d  rows kept with something to check: a value neutralised (a name's markup, control characters or length), read one way of two (a state from the ZIP code, a country's code as its language, one of several phones, separators alone as the default categories) or left out (a phone valid in two countries, a country that is a number and the phone without its country code beside it); a landline as the only contact (no SMS reaches it); a row hidden in the workbook, of a customer_id whose rows disagree or whose accents are written apart (as a Mac writes them), or around a quote that may have cost the list customers\n", s.Warned)
		if len(s.WarnedBy) > 0 {
			fmt.Fprintf(a.stdout, "    rows warned, by field: %s\n", breach.FieldCounts(s.WarnedBy))
		}
		shown := breach.FirstWarnedRows(s.Warnings, shownRows)
		for _, w := range shown {
			fmt.Fprintf(a.stdout, "    line %d: %s: %s\n", w.Line, w.Field, w.Reason)
		}
		// A quote that may have cost the list customers is shown wherever it is.
		for _, w := range s.Warnings[len(shown):] {
			if w.Field == "quote" {
				fmt.Fprintf(a.stdout, "    line %d: %s: %s\n", w.Line, w.Field, w.Reason)
			}
		}
		if more := s.Warned - breach.CountWarnedRows(shown); more > 0 {
			fmt.Fprintf(a.stdout, "    … and %d more rows with warnings\n", more)
		}
	}
	return nil
}

// shownRows is how many rejects, and how many warnings, the summary lists.
const shownRows = 10

// printRejects prints an import's first rejects, and where to find them all.
func (a *app) printRejects(ctx context.Context, ops *operation.Service, actor breach.Actor, s importSummary) error {
	if s.Rejected == 0 {
		return nil
	}
	n := 0
	_, err := ops.RejectRows(ctx, actor, s.CampaignID, s.ID, func(*breach.Import) (func(breach.Reject) error, error) {
		return func(r breach.Reject) error {
			if n++; n <= shownRows {
				id := ""
				if r.CustomerID != "" {
					id = " (" + r.CustomerID + ")"
				}
				fmt.Fprintf(a.stdout, "    line %d%s: %s\n", r.Line, id, r.Reason)
			}
			return nil
		}, nil
	})
	if err != nil {
		return err
	}
	if n > shownRows {
		fmt.Fprintf(a.stdout, "    … and %d more\n", n-shownRows)
	}
	if s.RejectsFile != "" {
		fmt.Fprintf(a.stdout, "  rejected rows written to %s\n", s.RejectsFile)
	} else {
		fmt.Fprintf(a.stdout, "  the full report: --rejects FILE, or GET /api/v1/campaigns/%s/imports/%s/rejects.csv\n", s.CampaignID, s.ID)
	}
	return nil
}
