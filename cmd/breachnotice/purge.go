package main

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/breachnotice/breachnotice/internal/postgres"
)

// retentionEvery is how often a worker looks for finished campaigns whose retention period is
// over. Retention is counted in days: an hour late is on time, and the sweep is one small
// query when nothing has expired.
const retentionEvery = time.Hour

// retentionActor names the automatic purge in the audit log.
const retentionActor = "system:retention"

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
			db, err := a.openDB(cmd.Context())
			if err != nil {
				return err
			}
			defer db.Close()
			rep, err := db.PurgeCampaign(cmd.Context(), campaignID, cliActor(), []byte(a.cfg.Secret))
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

// startRetention purges expired campaigns now and every retentionEvery until ctx ends, in the
// background; stop waits for it to finish. Every worker runs one: they need no coordination,
// because a purge holds its campaign's row lock and finds a purged campaign done.
//
// It lives beside the sending engine rather than in its conductor: the engine's record is
// what sending needs, and the purge needs the secret-keyed proofs and nothing of the queue.
func (a *app) startRetention(ctx context.Context, db *postgres.DB) (stop func()) {
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(retentionEvery)
		defer tick.Stop()
		for {
			a.purgeExpired(ctx, db)
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	})
	return wg.Wait
}

// purgeExpired runs one retention sweep, logging campaign IDs and counts only.
func (a *app) purgeExpired(ctx context.Context, db *postgres.DB) {
	reports, err := db.PurgeExpired(ctx, retentionActor, []byte(a.cfg.Secret))
	for _, r := range reports {
		a.log.Info("retention period over: campaign purged", "campaign", r.CampaignID, "recipients", r.Recipients,
			"rejects", r.Rejects)
	}
	if err != nil && ctx.Err() == nil {
		a.log.Warn("retention: some campaigns not purged; the next sweep tries again", "error", err)
	}
}
