package main

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/spf13/cobra"
)

func (a *app) purgeCommand() *cobra.Command {
	var (
		campaignID string
		asJSON     bool
	)
	cmd := &cobra.Command{
		Use:   "purge --campaign ID [--json]",
		Short: "Delete a finished campaign's personal data, keeping counts and proof of notice",
		Long: `Delete the personal data of a completed or cancelled campaign now, without waiting for
its retention period (the workers purge expired campaigns by themselves, every hour): its
customers' names, email addresses, phone numbers and list attributes, its rejected import rows,
and the addresses quoted in delivery errors.

What stays: customer IDs, the counts, every delivery and event (states, times, provider IDs),
and per customer and channel a keyed hash (HMAC-SHA256 under BREACHNOTICE_SECRET) of the
address, with which POST /api/v1/campaigns/ID/proof can later show that a given address was
notified. Keep BREACHNOTICE_SECRET: without it the hashes prove nothing.

A purge interrupted midway is finished by running it again; purging a purged campaign
changes nothing.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := a.cfg.Require("DATABASE_URL", "BREACHNOTICE_SECRET"); err != nil {
				return err
			}
			ops, done, err := a.operations(cmd.Context())
			if err != nil {
				return err
			}
			defer done()
			rep, err := ops.Purge(cmd.Context(), cliActor(), campaignID)
			if err != nil {
				return err
			}
			if asJSON {
				return json.NewEncoder(a.stdout).Encode(rep)
			}
			when := rep.PurgedAt.Local().Format(time.RFC3339)
			if rep.AlreadyPurged {
				fmt.Fprintf(a.stdout, "Campaign %s was already purged on %s by %s: nothing to do.\n", rep.CampaignID, when, rep.PurgedBy)
				return nil
			}
			fmt.Fprintf(a.stdout, "Purged campaign %s: the personal data of %d recipients and %d rejected rows deleted (%s).\n",
				rep.CampaignID, rep.Recipients, rep.Rejects, when)
			fmt.Fprintln(a.stdout, "Kept: customer IDs, counts, the delivery record and hashed proof of each address.")
			return nil
		},
	}
	cmd.Flags().StringVar(&campaignID, "campaign", "", "campaign ID")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print what was purged as JSON")
	_ = cmd.MarkFlagRequired("campaign")
	return cmd
}
