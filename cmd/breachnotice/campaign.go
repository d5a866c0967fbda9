package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/campaignfile"
	"github.com/breachnotice/breachnotice/internal/notice"
)

func (a *app) campaignCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "campaign", Short: "Create, approve, send and follow campaigns"}
	cmd.AddCommand(a.campaignCreateCommand(), a.campaignShowCommand(), a.campaignListCommand(), a.campaignApproveCommand())
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
			c, src, err := campaignfile.Parse(filepath.Base(file), f)
			if err != nil {
				return err
			}
			db, err := a.openDB(cmd.Context())
			if err != nil {
				return err
			}
			defer db.Close()
			c.CreatedBy = cliActor()
			if err := db.CreateCampaign(cmd.Context(), c, string(src)); err != nil {
				return err
			}
			if err := db.Audit(cmd.Context(), c.CreatedBy, "campaign.create", c.ID, map[string]any{"name": c.Name}); err != nil {
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
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			db, c, err := a.openCampaign(ctx, args[0])
			if err != nil {
				return err
			}
			defer db.Close()
			n, err := db.RecipientCount(ctx, c.ID)
			if err != nil {
				return err
			}
			imps, err := db.Imports(ctx, c.ID)
			if err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(a.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(map[string]any{"campaign": c, "recipients": n, "imports": imps})
			}
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
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func (a *app) campaignListCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List campaigns, newest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			db, err := a.openDB(cmd.Context())
			if err != nil {
				return err
			}
			defer db.Close()
			cs, err := db.Campaigns(cmd.Context())
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tSTATE\tCREATED\tNAME")
			for _, c := range cs {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", c.ID, c.State, c.CreatedAt.Format(time.DateOnly), c.Name)
			}
			return tw.Flush()
		},
	}
}

func (a *app) campaignApproveCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "approve ID",
		Short: "Approve a draft campaign: its list and its notices, which must pass lint",
		Long: `Approve a draft campaign once its customer list is imported and every variant of its
notices passes lint (breachnotice lint --campaign ID shows the findings). Approval is recorded
with who approved and when; afterwards the list can no longer change.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			rd, err := a.renderer()
			if err != nil {
				return err
			}
			db, err := a.openDB(cmd.Context())
			if err != nil {
				return err
			}
			defer db.Close()
			c, err := db.ApproveCampaign(cmd.Context(), args[0], cliActor(), func(c *breach.Campaign) error {
				return notice.Approvable(rd.Lint(c))
			})
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "Approved campaign %s (%s) as %s\n", c.ID, c.Name, c.ApprovedBy)
			return nil
		},
	}
}
