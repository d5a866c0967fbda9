package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/operation"
)

func (a *app) codesCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "codes", Short: "A vendor's pool of enrolment codes: one per customer without a code of their own"}
	cmd.AddCommand(a.codesImportCommand(), a.codesStatusCommand(), a.codesExportCommand())
	return cmd
}

func (a *app) codesImportCommand() *cobra.Command {
	var (
		campaign string
		asJSON   bool
	)
	cmd := &cobra.Command{
		Use:   "import --campaign ID [--json] FILE|-",
		Short: "Add an identity-protection vendor's enrolment codes to a draft campaign's pool",
		Long: `Add the enrolment codes an identity-protection vendor delivered to a draft campaign's pool:
a CSV with a column named code (enrolment_code, enrollment_code and activation_code are read
too; the header in any case; other columns ignored), UTF-8 with or without BOM, UTF-16,
Windows-1252, CP949 or Shift-JIS, separated by commas, semicolons or tabs, optionally gzipped.

Every customer whose list row gives no code of their own (the campaign's offer.code_attribute
column) gets exactly one code from the pool, assigned once and kept: the same code in the
email, the SMS, the letter, every retry and every preview. Customers imported later get
theirs at the end of their list's import. No code ever goes to two customers.

A line is rejected, with its number and reason, when its code is empty, does not look like an
enrolment code (1 to 40 letters, digits and hyphens), repeats an earlier line (codes compared
without regard to case), is already in the pool, or is a customer's list code. Approval is
refused while customers lack a code. The import is recorded in the audit log.`,
		Args: cobra.ExactArgs(1),
		RunE: a.withOps(func(cmd *cobra.Command, args []string, ops *operation.Service) error {
			src, name, _, err := openList(args[0])
			if err != nil {
				return err
			}
			defer src.Close()
			ci, err := ops.ImportCodes(cmd.Context(), cliActor(), campaign, operation.CodesRequest{Filename: name, Codes: src})
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			if asJSON {
				enc := json.NewEncoder(a.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(ci)
			}
			fmt.Fprintf(a.stdout, "%s: %s\n", name, ci.Summary())
			for _, r := range ci.Rejects {
				fmt.Fprintf(a.stdout, "  line %d: %s\n", r.Line, r.Reason)
			}
			if more := ci.Rejected - int64(len(ci.Rejects)); more > 0 {
				fmt.Fprintf(a.stdout, "  … and %d more rejected lines\n", more)
			}
			return nil
		}),
	}
	cmd.Flags().StringVar(&campaign, "campaign", "", "campaign ID (required)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the import's report as JSON")
	_ = cmd.MarkFlagRequired("campaign")
	return cmd
}

func (a *app) codesStatusCommand() *cobra.Command {
	var campaign string
	cmd := &cobra.Command{
		Use:   "status --campaign ID",
		Short: "How many codes a campaign's pool holds, has assigned and has left, and how many customers lack one",
		Args:  cobra.NoArgs,
		RunE: a.withOps(func(cmd *cobra.Command, _ []string, ops *operation.Service) error {
			p, err := ops.CodePool(cmd.Context(), cliActor(), campaign)
			if err != nil {
				return err
			}
			fmt.Fprintln(a.stdout, poolLine(p))
			return nil
		}),
	}
	cmd.Flags().StringVar(&campaign, "campaign", "", "campaign ID (required)")
	_ = cmd.MarkFlagRequired("campaign")
	return cmd
}

// poolLine says in one line what a pool holds.
func poolLine(p *breach.CodePool) string {
	if p == nil {
		return "no enrolment codes imported (breachnotice codes import)"
	}
	return fmt.Sprintf("enrolment codes: %d in the pool, %d assigned, %d free, %d customers missing a code", p.Size, p.Assigned, p.Free, p.Missing)
}

func (a *app) codesExportCommand() *cobra.Command {
	var campaign, out string
	cmd := &cobra.Command{
		Use:   "export --campaign ID [--out FILE]",
		Short: "Write the vendor's export: each assigned code and the reference of the notice it went with",
		Long: `Write the export the identity-protection vendor needs as CSV: each assigned pool code and the
reference code of the customer's notice (the code the customer can verify), so the vendor can
match an enrolment to a notice without learning who the customer is. Cells a spreadsheet would
run as formulas are escaped. With --out the file appears only once complete. The export is
recorded in the audit log.`,
		Args: cobra.NoArgs,
		RunE: a.withOps(func(cmd *cobra.Command, _ []string, ops *operation.Service) error {
			var rows int64
			err := a.toOutput(out, func(open func() (io.Writer, error)) (err error) {
				rows, err = ops.ExportCodes(cmd.Context(), cliActor(), campaign, func(*breach.Campaign) (io.Writer, error) { return open() })
				return err
			})
			if err != nil {
				return fmt.Errorf("codes export: %w", err)
			}
			if out != "" && out != "-" {
				fmt.Fprintf(a.stderr, "Exported %d enrolment codes of campaign %s to %s\n", rows, campaign, out)
			}
			return nil
		}),
	}
	cmd.Flags().StringVar(&campaign, "campaign", "", "campaign ID (required)")
	cmd.Flags().StringVarP(&out, "out", "o", "", "write to FILE instead of standard output")
	_ = cmd.MarkFlagRequired("campaign")
	return cmd
}
