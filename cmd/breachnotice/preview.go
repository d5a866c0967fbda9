package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/breachnotice/breachnotice/internal/notice"
	"github.com/breachnotice/breachnotice/internal/operation"
)

// renderer loads the notice templates (TEMPLATES_DIR overriding the embedded ones) with the
// secret that keys reference codes. Without BREACHNOTICE_SECRET — only outside `serve` and
// `worker` — it uses the one `run` keeps, so that previews show the codes the demo would send.
// Every renderer of the process comes from here.
func (a *app) renderer() (*notice.Renderer, error) {
	secret, err := a.secret()
	if err != nil {
		return nil, err
	}
	rd, err := notice.New(a.cfg.TemplatesDir, []byte(secret))
	if err != nil {
		return nil, err
	}
	rd.PublicURL = a.cfg.PublicURL // notices link PUBLIC_URL/verify
	return rd, nil
}

func (a *app) previewCommand() *cobra.Command {
	var (
		campaignID, customerID, locale, channel, out string
		sample, asJSON                               bool
	)
	cmd := &cobra.Command{
		Use:   "preview --campaign ID (--customer CUSTOMER_ID | --sample) [--locale L] [--channel email|sms] [--json] [--out FILE]",
		Short: "Render the notice a customer will receive, with its lint",
		Long: `Render the notice of one customer of the campaign (--customer), or of a sample customer
exposed in every category for every offered locale and jurisdiction (--sample), as the customer
will see it: the email's subject and text (--out FILE writes its HTML), or the SMS with its
encoding and segments. --json prints {"locale", "locale_reason", "jurisdiction", "subject",
"html", "text", "sms": {"body", "encoding", "segments"}, "reference", "lint": [...]}.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if sample == (customerID != "") {
				return fmt.Errorf("give either --customer CUSTOMER_ID or --sample")
			}
			if channel != "" && channel != string(notice.Email) && channel != string(notice.Text) {
				return fmt.Errorf("--channel %q: use email or sms", channel)
			}
			ops, done, err := a.operations(cmd.Context())
			if err != nil {
				return err
			}
			defer done()
			var notices []*notice.Notice
			if sample {
				if notices, err = ops.Samples(cmd.Context(), cliActor(), campaignID, locale); err != nil {
					return err
				}
			} else {
				_, n, _, err := ops.Preview(cmd.Context(), cliActor(), campaignID, operation.PreviewRequest{CustomerID: customerID, Locale: locale})
				if err != nil {
					return err
				}
				notices = append(notices, n)
			}
			if out != "" && !asJSON && channel != string(notice.Text) && len(notices) > 1 {
				return fmt.Errorf("--out writes one email's HTML; with --sample, add --locale and --json, or --channel sms")
			}
			if out == "" {
				return writeNotices(a.stdout, notices, channel, asJSON, false)
			}
			f, err := createNew(out)
			if err != nil {
				return err
			}
			if err := writeNotices(f, notices, channel, asJSON, true); err != nil {
				f.Close()
				os.Remove(out) // ours (createNew): no partial notice left behind
				return err
			}
			if err := f.Close(); err != nil {
				os.Remove(out)
				return fmt.Errorf("write %s: %w", out, err)
			}
			fmt.Fprintf(a.stderr, "wrote %s (a customer's notice: personal data — delete it when done)\n", out)
			return nil
		},
	}
	cmd.Flags().StringVar(&campaignID, "campaign", "", "campaign ID")
	cmd.Flags().StringVar(&customerID, "customer", "", "the customer_id of a recipient")
	cmd.Flags().BoolVar(&sample, "sample", false, "a sample customer exposed in every category, for every locale and jurisdiction")
	cmd.Flags().StringVar(&locale, "locale", "", "render in this offered locale instead of the customer's")
	cmd.Flags().StringVar(&channel, "channel", "", "email or sms (default: both)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.Flags().StringVar(&out, "out", "", "write to FILE (the email's HTML unless --json or --channel sms)")
	_ = cmd.MarkFlagRequired("campaign")
	return cmd
}

// writeNotices prints notices for a person (subject, text, SMS and lint), as JSON, or, to a
// file, the email's HTML.
func writeNotices(w io.Writer, ns []*notice.Notice, channel string, asJSON, toFile bool) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if len(ns) == 1 {
			return enc.Encode(ns[0])
		}
		return enc.Encode(ns)
	}
	for i, n := range ns {
		if toFile && channel != string(notice.Text) {
			if _, err := io.WriteString(w, n.HTML); err != nil {
				return err
			}
			continue
		}
		if i > 0 {
			fmt.Fprintln(w, strings.Repeat("═", 72))
		}
		fmt.Fprintf(w, "locale %s (%s) · jurisdiction %s · reference %s\n", n.Locale, n.LocaleReason, notice.JurisdictionLabel(n.Jurisdiction), n.Reference)
		if n.Sample != "" {
			fmt.Fprintf(w, "sample customer %s\n", n.Sample)
		}
		if channel != string(notice.Text) {
			fmt.Fprintf(w, "\nSubject: %s\n\n%s\n", n.Subject, n.Text)
		}
		if channel != string(notice.Email) {
			fmt.Fprintf(w, "\nSMS (%s, %d units, %d segments):\n%s\n", n.SMS.Encoding, n.SMS.Units, n.SMS.Segments, n.SMS.Body)
		}
		for _, f := range n.Lint {
			fmt.Fprintf(w, "lint %s %s (%s): %s\n", f.Severity, f.Rule, f.Channel, f.Message)
		}
	}
	return nil
}

func (a *app) lintCommand() *cobra.Command {
	var campaignID string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "lint --campaign ID",
		Short: "Check every locale × channel × jurisdiction of a campaign's notices; exit 1 on an error",
		Args:  cobra.NoArgs,
		RunE: a.withOps(func(cmd *cobra.Command, _ []string, ops *operation.Service) error {
			c, findings, err := ops.Lint(cmd.Context(), cliActor(), campaignID)
			if err != nil {
				return err
			}
			if asJSON {
				if err := json.NewEncoder(a.stdout).Encode(findings); err != nil {
					return err
				}
			} else {
				for _, f := range findings {
					fmt.Fprintf(a.stdout, "%s\t%s\t%s/%s/%s\t%s\n", f.Severity, f.Rule, f.Locale, f.Channel, notice.JurisdictionLabel(f.Jurisdiction), f.Message)
				}
				vs := notice.Variants(c)
				fmt.Fprintf(a.stdout, "%d variants checked (%d locales × %d jurisdictions × email and SMS), %d findings\n",
					len(vs), len(c.Locales), len(vs)/len(c.Locales), len(findings))
			}
			return notice.Approvable(findings)
		}),
	}
	cmd.Flags().StringVar(&campaignID, "campaign", "", "campaign ID")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the findings as JSON")
	_ = cmd.MarkFlagRequired("campaign")
	return cmd
}
