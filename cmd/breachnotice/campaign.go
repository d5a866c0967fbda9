package main

import (
	"bufio"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/operation"
)

func (a *app) campaignCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "campaign", Short: "Create, approve, send and follow campaigns"}
	cmd.AddCommand(a.campaignCreateCommand(), a.campaignShowCommand(), a.campaignListCommand(), a.campaignApproveCommand(),
		a.campaignExportCommand(), a.campaignRecipientCommand(), a.campaignRejectsCommand())
	cmd.AddCommand(a.campaignLifecycleCommands()...)
	return cmd
}

func (a *app) campaignCreateCommand() *cobra.Command {
	var file string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "create -f campaign.yaml",
		Short: "Validate a campaign file and store it as a draft campaign",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f, err := os.Open(file)
			if err != nil {
				return err
			}
			defer f.Close()
			ops, done, err := a.operations(cmd.Context())
			if err != nil {
				return err
			}
			defer done()
			c, err := ops.CreateCampaign(cmd.Context(), cliActor(), filepath.Base(file), f)
			if err != nil {
				return err
			}
			if asJSON {
				return json.NewEncoder(a.stdout).Encode(map[string]string{"id": c.ID})
			}
			fmt.Fprintf(a.stdout, "Created campaign %s (%s)\nNext: breachnotice import --campaign %s customers.csv\n", c.ID, c.Name, c.ID)
			return nil
		},
	}
	cmd.Flags().StringVarP(&file, "file", "f", "", "campaign file (YAML)")
	cmd.Flags().BoolVar(&asJSON, "json", false, `print {"id": "…"}`)
	_ = cmd.MarkFlagRequired("file")
	return cmd
}

func (a *app) campaignShowCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "show ID",
		Short: "Show a campaign, its recipients and imports",
		Args:  cobra.ExactArgs(1),
		RunE: a.withOps(func(cmd *cobra.Command, args []string, ops *operation.Service) error {
			sum, err := ops.Summary(cmd.Context(), cliActor(), args[0])
			if err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(a.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(sum)
			}
			c, n, imps := sum.Campaign, sum.Recipients, sum.Imports
			tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintf(tw, "ID\t%s\n", c.ID)
			fmt.Fprintf(tw, "Name\t%s\n", c.Name)
			fmt.Fprintf(tw, "State\t%s\n", c.State)
			fmt.Fprintf(tw, "Organization\t%s (%s)\n", c.Organization.Name, c.Organization.Domain)
			fmt.Fprintf(tw, "Sender\t%s <%s>\n", c.Sender.Name, c.Sender.Email)
			fmt.Fprintf(tw, "Locales\t%s (default %s)\n", strings.Join(c.Locales, ", "), c.DefaultLocale)
			fmt.Fprintf(tw, "Jurisdictions\t%s\n", strings.Join(c.Jurisdictions, ", "))
			fmt.Fprintf(tw, "Incident\t%s – %s, discovered %s\n", c.Incident.OccurredFrom, c.Incident.OccurredTo, c.Incident.DiscoveredOn)
			fmt.Fprintf(tw, "Recipients\t%d\n", n)
			fmt.Fprintf(tw, "Created\t%s by %s\n", c.CreatedAt.Format(time.RFC3339), c.CreatedBy)
			fmt.Fprintf(tw, "Approval\t%s\n", approvalLine(c))
			if c.State == breach.CampaignDraft {
				fmt.Fprintf(tw, "List version\t%s (campaign approve --list-version)\n", c.ListVersion)
			}
			if c.CodePool != nil {
				fmt.Fprintf(tw, "Codes\t%s\n", poolLine(c.CodePool))
			}
			tw.Flush()
			if len(imps) > 0 {
				fmt.Fprintln(a.stdout, "\nImports:")
				tw = tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "  ID\tFILE\tSTATE\tREAD\tACCEPTED\tMERGED\tREJECTED\tSTARTED")
				for _, imp := range imps {
					fmt.Fprintf(tw, "  %s\t%s\t%s\t%d\t%d\t%d\t%d\t%s\n", imp.ID, imp.Filename, imp.State,
						imp.Read, imp.Accepted, imp.Merged, imp.Rejected, imp.StartedAt.Format(time.RFC3339))
				}
				tw.Flush()
			}
			return nil
		}),
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func (a *app) campaignListCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List campaigns, newest first",
		Args:  cobra.NoArgs,
		RunE: a.withOps(func(cmd *cobra.Command, _ []string, ops *operation.Service) error {
			cs, err := ops.Campaigns(cmd.Context(), cliActor())
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tSTATE\tCREATED\tNAME")
			for _, c := range cs {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", c.ID, c.State, c.CreatedAt.Format(time.DateOnly), c.Name)
			}
			return tw.Flush()
		}),
	}
}

func (a *app) campaignApproveCommand() *cobra.Command {
	var listVersion string
	cmd := &cobra.Command{
		Use:   "approve ID",
		Short: "Approve a draft campaign: its list and its notices, which must pass lint",
		Long: `Approve a draft campaign once its customer list is imported and every variant of its
notices passes lint (breachnotice lint --campaign ID shows the findings). Approval is recorded
with who approved and when; afterwards the list can no longer change.

--list-version names the list you reviewed (list_version in campaign show --json): if an
import has changed it since, the approval is refused. Without it, the approval is of the list
as it is when the command runs.

A campaign that needs two people (approval: two_person) cannot be approved here: the command
line knows your system account, not which console user you are, so it cannot tell you from the
campaign's authors. Approve it in the web console, or through the API with a token bound to
your user (breachnotice token create --name NAME --user LOGIN).`,
		Args: cobra.ExactArgs(1),
		RunE: a.withOps(func(cmd *cobra.Command, args []string, ops *operation.Service) error {
			c, err := ops.Approve(cmd.Context(), cliActor(), args[0], operation.ApproveRequest{ListVersion: listVersion})
			if err != nil {
				return err
			}
			if c.State == breach.CampaignApproved {
				fmt.Fprintf(a.stdout, "Approved campaign %s (%s) as %s\n", c.ID, c.Name, c.ApprovedBy)
				// What the approval decided of shared addresses: who will not get a notice
				// of their own, and why.
				if s, err := ops.Status(cmd.Context(), cliActor(), c.ID); err == nil {
					printSharedAddresses(a.stdout, s)
				}
			} else {
				fmt.Fprintf(a.stdout, "Your approval of campaign %s (%s) is recorded: %s\n", c.ID, c.Name, approvalLine(c))
			}
			return nil
		}),
	}
	cmd.Flags().StringVar(&listVersion, "list-version", "", "the version of the list you reviewed (list_version in `campaign show --json`)")
	return cmd
}

// approvalLine says how a campaign is approved, or how far its approval has come.
func approvalLine(c *breach.Campaign) string {
	if c.ApprovedAt != nil {
		return fmt.Sprintf("approved %s by %s", c.ApprovedAt.Format(time.RFC3339), c.ApprovedBy)
	}
	if p := c.ApprovalProgress(); p != "" {
		return p
	}
	return "not approved"
}

func (a *app) campaignExportCommand() *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "export ID [-o FILE]",
		Short: "Write a campaign's proof-of-notice record as CSV, one row per delivery",
		Long: `Write a campaign's proof-of-notice record as CSV: one row per notice with the customer_id,
name, channel, address, locale, state, attempts, provider message ID, last error, whether it
was a fallback, when it was sent and last updated (UTC), and the reference code the notice
quoted. Cells a spreadsheet would run as formulas are escaped. The record is streamed, whatever
its size. With -o the file appears only once complete. The export is recorded in the audit log.`,
		Args: cobra.ExactArgs(1),
		RunE: a.withOps(func(cmd *cobra.Command, args []string, ops *operation.Service) error {
			var rows int64
			err := a.toOutput(out, func(open func() (io.Writer, error)) (err error) {
				rows, err = ops.Export(cmd.Context(), cliActor(), args[0], func(*breach.Campaign) (io.Writer, error) { return open() })
				return err
			})
			if err != nil {
				return fmt.Errorf("export: %w", err)
			}
			if out != "" && out != "-" {
				fmt.Fprintf(a.stderr, "Exported %d deliveries of campaign %s to %s\n", rows, args[0], out)
			}
			return nil
		}),
	}
	cmd.Flags().StringVarP(&out, "output", "o", "", "write to FILE instead of standard output")
	return cmd
}

// output returns where a command writes its result: standard output, or a file that appears at
// path only once complete (written beside it, renamed at the end). done takes the writing's
// error and returns the final one, removing the partial file on failure.
func (a *app) output(path string) (w *bufio.Writer, done func(error) error, err error) {
	if path == "" || path == "-" { // "-" is standard output, as everywhere; it made a file named "-"
		w = bufio.NewWriter(a.stdout)
		return w, func(err error) error {
			if ferr := w.Flush(); err == nil {
				err = ferr
			}
			return err
		}, nil
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return nil, nil, err
	}
	w = bufio.NewWriter(f)
	return w, func(err error) error {
		if err == nil {
			err = w.Flush()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = placeNew(f.Name(), path)
		}
		os.Remove(f.Name())
		return err
	}, nil
}

// errOutputExists is the refusal to write over a file: an export run as root with a slip of
// the path replaced /etc/passwd, and a file that existed may be someone else's.
func errOutputExists(path string) error {
	return fmt.Errorf("%s exists: the command writes only a new file (delete it first, or name another)", path)
}

// placeNew gives the finished temporary file tmp the name path, unless path exists: a hard
// link fails rather than replace (the temporary name is removed by the caller). Where links
// are not supported, it checks for path first and renames.
func placeNew(tmp, path string) error {
	err := os.Link(tmp, path)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, fs.ErrExist):
		return errOutputExists(path)
	}
	if _, serr := os.Lstat(path); serr == nil {
		return errOutputExists(path)
	}
	return os.Rename(tmp, path)
}

// createNew creates path for personal data: readable by its owner only, and never over an
// existing file.
func createNew(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil, errOutputExists(path)
	}
	return f, err
}

// toOutput runs write with open, which opens the command's output (see output) only when write
// has something to write — once an operation has checked and audited what it is asked — and
// finishes it: a file appears only complete, and a failed one is removed.
func (a *app) toOutput(path string, write func(open func() (io.Writer, error)) error) error {
	var finish func(error) error
	err := write(func() (io.Writer, error) {
		w, fin, err := a.output(path)
		finish = fin
		return w, err
	})
	if finish != nil {
		err = finish(err)
	}
	return err
}

// secret returns BREACHNOTICE_SECRET, which keys reference codes; without it — only outside
// serve and worker — the demo secret `run` keeps in the state directory, so that the command
// line works on run's database; and where there is none, a secret of this process alone,
// written nowhere: the commands that key nothing work, those that key a record are refused
// (it binds no database: operation.SecretCheck).
// The fallback is chosen once per process (a.fallbackSecret): the renderer and the operations
// must key with the same one.
func (a *app) secret() (string, error) {
	if a.cfg.Secret != "" {
		return a.cfg.Secret, nil
	}
	if a.fallbackSecret == "" {
		if s, ok := readDemoSecret(a.cfg.StateDir); ok {
			a.fallbackSecret = s
		} else {
			a.fallbackSecret = rand.Text() + rand.Text()
		}
	}
	return a.fallbackSecret, nil
}

func (a *app) campaignRecipientCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "recipient ID CUSTOMER_ID [--json]",
		Short: "Show one customer's record: who, their deliveries and every event (audited)",
		Args:  cobra.ExactArgs(2),
		RunE: a.withOps(func(cmd *cobra.Command, args []string, ops *operation.Service) error {
			rec, err := ops.Recipient(cmd.Context(), cliActor(), args[0], args[1])
			if err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(a.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(rec)
			}
			r := rec.Recipient
			fmt.Fprintf(a.stdout, "Customer %s: %s <%s> %s (locale %s)\n", shown(r.CustomerID), shown(r.Name), shown(r.Email), shown(r.Phone), shown(r.Locale))
			for _, told := range [][2]string{{"email", r.EmailToldWith}, {"SMS", r.PhoneToldWith}, {"letter", r.LetterToldWith}} {
				if told[1] != "" {
					fmt.Fprintf(a.stdout, "By %s, told with %s, the same person at the same address: one notice, if one goes there\n", told[0], shown(told[1]))
				}
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "CHANNEL\tSTATE\tATTEMPTS\tUPDATED\tERROR")
			for _, d := range rec.Deliveries {
				fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\n", d.Channel, d.State, d.Attempts, d.UpdatedAt.Format(time.RFC3339), shown(d.Error))
			}
			tw.Flush()
			for _, e := range rec.Events {
				fmt.Fprintf(a.stdout, "  %s  %s %s (%s) %s\n", e.At.Format(time.RFC3339), e.Channel, e.State, shown(string(e.Source)), shown(e.Error))
			}
			return nil
		}),
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func (a *app) campaignRejectsCommand() *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "rejects ID IMPORT_ID [-o FILE]",
		Short: "Write an import's rejected rows (line, customer_id, field, reason) as CSV (audited)",
		Args:  cobra.ExactArgs(2),
		RunE: a.withOps(func(cmd *cobra.Command, args []string, ops *operation.Service) error {
			return a.toOutput(out, func(open func() (io.Writer, error)) error {
				return ops.Rejects(cmd.Context(), cliActor(), args[0], args[1], func(*breach.Import) (io.Writer, error) { return open() })
			})
		}),
	}
	cmd.Flags().StringVarP(&out, "output", "o", "", "write to FILE instead of standard output")
	return cmd
}
