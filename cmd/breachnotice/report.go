package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/breachnotice/breachnotice/internal/operation"
	"github.com/breachnotice/breachnotice/internal/regulator"
)

func (a *app) reportCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "report", Short: "The legal team's reports: who must be told, by when, and the documents to send"}
	cmd.AddCommand(a.reportRegulatorsCommand(), a.reportSamplesCommand())
	return cmd
}

func (a *app) reportRegulatorsCommand() *cobra.Command {
	var (
		campaign, cost string
		asJSON         bool
	)
	cmd := &cobra.Command{
		Use:   "regulators --campaign ID [--cost-usd N] [--json]",
		Short: "Which regulators must be told, by when and with what, and whether substitute notice applies",
		Long: `Count the affected people per jurisdiction where they live (the list's US state, region or ZIP
code, or country) and hold the counts against each law's threshold (internal/regulator/rules.yaml):
who must be told, by when (counted from the campaign's incident.discovered_on), with what, under
which statute. Also says whether substitute notice (a US state-law provision, weighed for the US
residents and those the list does not place) applies: more than 500,000 of them, a cost of
individual notice over $250,000 (--cost-usd: your estimate for the whole list; unknown without
it), or some of them the company cannot reach (every notice failed, bounced, came back or was
suppressed). Counts only: no personal data.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			costUSD, err := operation.ParseCostUSD(cost)
			if err != nil {
				return err
			}
			ops, done, err := a.operations(cmd.Context())
			if err != nil {
				return err
			}
			defer done()
			rep, err := ops.RegulatorReport(cmd.Context(), cliActor(), campaign, operation.RegulatorRequest{CostUSD: costUSD})
			if err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(a.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(rep)
			}
			return printRegulatorReport(a.stdout, rep)
		},
	}
	cmd.Flags().StringVar(&campaign, "campaign", "", "campaign ID (required)")
	cmd.Flags().StringVar(&cost, "cost-usd", "", "estimated cost of notifying everyone individually, in US dollars")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON")
	_ = cmd.MarkFlagRequired("campaign")
	return cmd
}

// printRegulatorReport writes the report as tables for a terminal.
func printRegulatorReport(w io.Writer, rep *regulator.Report) error {
	fmt.Fprintf(w, "campaign %s: %d affected, breach discovered %s", rep.CampaignID, rep.Affected, rep.DiscoveredOn)
	if !rep.NotifiedOn.IsZero() {
		fmt.Fprintf(w, ", notices sent from %s", rep.NotifiedOn)
	}
	fmt.Fprintln(w)
	if rep.Affected == 0 && len(rep.Obligations) == 0 {
		// No list yet: empty tables would read as "no regulator is owed anything".
		for _, warn := range rep.Warnings {
			fmt.Fprintln(w, "\nwarning: "+warn)
		}
		return nil
	}

	fmt.Fprintln(w, "\nAffected people by where they live")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  jurisdiction\tname\taffected\t")
	for _, c := range rep.Jurisdictions {
		name := c.Name
		if c.Unlocated > 0 {
			name += fmt.Sprintf(" (%d of no known state or country)", c.Unlocated)
		}
		indent := "  "
		if c.Within != "" {
			indent = "    "
		}
		fmt.Fprintf(tw, "%s%s\t%s\t%d\t\n", indent, c.Jurisdiction, name, c.Affected)
	}
	if rep.Unlocated > 0 {
		fmt.Fprintf(tw, "  ?\tno country or state in the list\t%d\t\n", rep.Unlocated)
	}
	if n := rep.Rejected.Rows; n > 0 {
		fmt.Fprintf(tw, "  ?\trows rejected at import, counted nowhere\t%d\t\n", n)
	}
	if err := tw.Flush(); err != nil {
		return err
	}

	fmt.Fprintln(w, "\nRegulators (required first, by deadline)")
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  required\tdue\tjurisdiction\taffected\tthreshold\tregulator")
	var footnotes []string
	for _, o := range rep.Obligations {
		req := "no"
		switch {
		case o.RequiredIf != "":
			footnotes = append(footnotes, "required if "+o.RequiredIf)
			req = fmt.Sprintf("if [%d]", len(footnotes))
		case o.Required && o.Condition != "":
			footnotes = append(footnotes, "required unless the company documents that it is not so: "+o.Condition)
			req = fmt.Sprintf("YES [%d]", len(footnotes))
		case o.Required && !o.Threshold.Met(o.Affected):
			// Required whatever the count (Korea: a unique identifier exposed): say why.
			footnotes = append(footnotes, "required although the count is under the threshold: "+o.Why)
			req = fmt.Sprintf("YES [%d]", len(footnotes))
		case o.Required:
			req = "YES"
		case o.AlsoWhen != "" && o.IfRejectedCounted != "":
			footnotes = append(footnotes, "not required by the count, but required if "+o.AlsoWhen+"; and "+o.IfRejectedCounted)
			req = fmt.Sprintf("no? [%d]", len(footnotes))
		case o.AlsoWhen != "":
			footnotes = append(footnotes, "not required by the count, but required if "+o.AlsoWhen)
			req = fmt.Sprintf("no [%d]", len(footnotes))
		case o.IfRejectedCounted != "":
			footnotes = append(footnotes, o.IfRejectedCounted)
			req = fmt.Sprintf("no? [%d]", len(footnotes))
		}
		due := o.Deadline.Date.String()
		if o.Deadline.At != nil {
			due = o.Deadline.At.UTC().Format("2006-01-02 15:04Z")
		}
		if !o.Deadline.Statutory {
			due = "~" + due
		}
		if o.Deadline.Passed && (o.Required || o.RequiredIf != "") {
			due += " PASSED"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%d\t%s\t%s\n", req, due, o.Jurisdiction, o.Affected, o.Threshold.Text, o.Regulator)
	}
	for _, c := range rep.Uncovered {
		fmt.Fprintf(tw, "  ?\t—\t%s\t%d\t—\tno rule here for %s: counsel must check its law\n", c.Jurisdiction, c.Affected, c.Name)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w, "  ~ a reminder: the law sets no period (\"without unreasonable delay\"). PASSED: the deadline is behind us everywhere (a late notice says why it is late). --json gives each deadline's basis and each rule's note.")
	for i, f := range footnotes {
		fmt.Fprintf(w, "  [%d] %s\n", i+1, f)
	}

	fmt.Fprintln(w, "\nWhat to send, and under which law")
	for _, o := range rep.Obligations {
		if !o.Required && o.RequiredIf == "" {
			continue
		}
		what := make([]string, len(o.What))
		for i, item := range o.What {
			what[i] = regulator.WhatItems[item]
		}
		reviewed := "reviewed " + o.Reviewed.String()
		if o.Unverified {
			reviewed += ", NOT VERIFIED against the enacted text: " + o.Note
		}
		fmt.Fprintf(w, "  %s, %s: %s. (%s; %s)\n", o.Jurisdiction, o.Regulator, strings.Join(what, "; "), o.Source, reviewed)
	}

	s := rep.SubstituteNotice
	verdict := "does not apply"
	switch s.Scope {
	case "everyone":
		verdict = "APPLIES"
	case "some":
		verdict = "APPLIES for the people the company lacks contact information for"
	}
	fmt.Fprintf(w, "\nSubstitute notice %s (%s)\n", verdict, s.Source)
	for _, r := range s.Reasons {
		fmt.Fprintln(w, "  - "+r)
	}
	for _, n := range s.Notes {
		fmt.Fprintln(w, "  note: "+n)
	}
	if s.Applies {
		fmt.Fprintln(w, "  It consists of:")
		for _, c := range s.ConsistsOf {
			fmt.Fprintln(w, "    - "+c)
		}
		fmt.Fprintln(w, "  The website notice in every offered language: breachnotice report samples --campaign "+rep.CampaignID+" --out DIR")
	}
	for _, warn := range rep.Warnings {
		fmt.Fprintln(w, "\nwarning: "+warn)
	}
	return nil
}

func (a *app) reportSamplesCommand() *cobra.Command {
	var campaign, out string
	cmd := &cobra.Command{
		Use:   "samples --campaign ID --out DIR",
		Short: "Write the sample notices for the regulators and the website notice, with placeholders for personal data",
		Long: `Write to DIR, as HTML: for every jurisdiction where a regulator must be told, its residents'
notice in every offered language, with [NAME], [REFERENCE] and [ENROLMENT CODE] where each
customer's own values go (notice-<jurisdiction>-<locale>.html), saying which regulators ask for
a copy of it (California's Attorney General, for one); and the website notice of substitute
notice in every offered language (website-<locale>.html). No file holds anyone's personal data.`,
		Args: cobra.NoArgs,
		RunE: a.withOps(func(cmd *cobra.Command, _ []string, ops *operation.Service) error {
			samples, err := ops.RegulatorSamples(cmd.Context(), cliActor(), campaign)
			if err != nil {
				return err
			}
			if err := os.MkdirAll(out, 0o755); err != nil {
				return err
			}
			write := func(file, html string) error {
				return os.WriteFile(filepath.Join(out, file), []byte(html), 0o644)
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			for _, s := range samples.Samples {
				if err := write(s.File, s.HTML); err != nil {
					return err
				}
				asked := "a copy for " + strings.Join(s.Regulators, "; ")
				if len(s.Regulators) == 0 {
					asked = "to file with " + strings.Join(s.Required, "; ")
				}
				fmt.Fprintf(tw, "%s\t%s, %s notice (%s)\t%s\t\n", filepath.Join(out, s.File), s.Name, s.Locale, s.Profile, asked)
			}
			for _, p := range samples.Website {
				if err := write(p.File, p.HTML); err != nil {
					return err
				}
				fmt.Fprintf(tw, "%s\twebsite notice, %s\tsubstitute notice\t\n", filepath.Join(out, p.File), p.Locale)
			}
			if len(samples.Samples) == 0 {
				fmt.Fprintln(tw, "(no regulator must be told: no sample notice to file)\t\t\t")
			}
			return tw.Flush()
		}),
	}
	cmd.Flags().StringVar(&campaign, "campaign", "", "campaign ID (required)")
	cmd.Flags().StringVarP(&out, "out", "o", "", "directory to write the files to (created if missing; required)")
	_ = cmd.MarkFlagRequired("campaign")
	_ = cmd.MarkFlagRequired("out")
	return cmd
}
