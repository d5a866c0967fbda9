package main

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/dispatch"
	"github.com/breachnotice/breachnotice/internal/operation"
)

// campaignMoveCommand is start, pause, resume or cancel: one move of the campaign's state.
func (a *app) campaignMoveCommand(use, short, long string, m operation.Move, verb string) *cobra.Command {
	return &cobra.Command{
		Use:   use + " ID",
		Short: short,
		Long:  long,
		Args:  cobra.ExactArgs(1),
		RunE: a.withOps(func(cmd *cobra.Command, args []string, ops *operation.Service) error {
			c, err := ops.MoveCampaign(cmd.Context(), cliActor(), args[0], m)
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "%s campaign %s (%s): now %s\n", verb, c.ID, c.Name, c.State)
			return nil
		}),
	}
}

func (a *app) campaignLifecycleCommands() []*cobra.Command {
	return []*cobra.Command{
		a.campaignMoveCommand("start", "Start sending an approved campaign",
			`Start sending an approved campaign's notices. The workers (breachnotice worker, or run)
create a delivery per recipient and channel and send them; follow with campaign status.`,
			operation.Start, "Started"),
		a.campaignMoveCommand("pause", "Pause a running campaign: no new notice is sent",
			`Pause a running campaign: workers stop claiming its notices at once; the few already in
flight finish. Resume continues where it stopped.`, operation.Pause, "Paused"),
		a.campaignMoveCommand("resume", "Resume a paused campaign", "", operation.Resume, "Resumed"),
		a.campaignMoveCommand("cancel", "Cancel a campaign: what is not sent yet is never sent",
			`Cancel a campaign. Notices not sent yet are recorded as failed ("cancelled") and are never
sent; notices already sent stay recorded as sent. This cannot be undone.`, operation.Cancel, "Cancelled"),
		a.campaignStatusCommand(),
		a.campaignTestSendCommand(),
		a.campaignRetryFailedCommand(),
	}
}

func (a *app) campaignRetryFailedCommand() *cobra.Command {
	var channel string
	cmd := &cobra.Command{
		Use:   "retry-failed ID --channel email|sms",
		Short: "Send again a campaign's failed notices, once their relay or provider is fixed",
		Long: `Put the failed notices of one channel of a running, paused or completed campaign back in the
queue, their attempts counted from zero: what a relay or provider failed for good while it was
down or misconfigured (the workers pause a campaign whose notices keep failing). Only the
customers nothing has reached and nothing is on its way to; bounced and suppressed notices stay.
A completed campaign with notices put back runs again until they are settled.`,
		Args: cobra.ExactArgs(1),
		RunE: a.withOps(func(cmd *cobra.Command, args []string, ops *operation.Service) error {
			n, err := ops.RequeueFailed(cmd.Context(), cliActor(), args[0], breach.Channel(channel))
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "%d failed %s notices of campaign %s are queued again\n", n, channel, args[0])
			return nil
		}),
	}
	cmd.Flags().StringVar(&channel, "channel", "", "the channel whose failed notices to send again: email or sms (required)")
	return cmd
}

func (a *app) campaignStatusCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "status ID",
		Short: "Show a campaign's delivery counts by channel, state and locale, rate and ETA",
		Args:  cobra.ExactArgs(1),
		RunE: a.withOps(func(cmd *cobra.Command, args []string, ops *operation.Service) error {
			s, err := ops.Status(cmd.Context(), cliActor(), args[0])
			if err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(a.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(s)
			}
			fmt.Fprintf(a.stdout, "state: %s   recipients: %d   rate: %.1f/s", s.State, s.Total, s.RatePerSec)
			if s.ETASeconds != nil {
				fmt.Fprintf(a.stdout, "   eta: %.0fs", *s.ETASeconds)
			}
			if s.PossibleDuplicates > 0 {
				fmt.Fprintf(a.stdout, "   possible duplicates: %d", s.PossibleDuplicates)
			}
			fmt.Fprintln(a.stdout)
			printSharedAddresses(a.stdout, s)
			if why := s.Stalled(); why != "" {
				fmt.Fprintf(a.stdout, "warning: %s\n", why)
			}
			if q := s.QuietHours; q.Count > 0 && q.Earliest != nil && q.Latest != nil {
				fmt.Fprintf(a.stdout, "quiet hours: %d SMS wait for their recipients' night to end, until %s", q.Count,
					q.Earliest.UTC().Format("2006-01-02 15:04 UTC"))
				if !q.Latest.Equal(*q.Earliest) {
					fmt.Fprintf(a.stdout, " to %s", q.Latest.UTC().Format("2006-01-02 15:04 UTC"))
				}
				fmt.Fprintln(a.stdout)
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
			fmt.Fprint(tw, "channel\t")
			for _, st := range breach.DeliveryStates {
				fmt.Fprintf(tw, "%s\t", st)
			}
			fmt.Fprintln(tw)
			printCounts := func(label string, counts map[breach.Channel]map[breach.DeliveryState]int64) {
				for _, ch := range breach.Channels {
					fmt.Fprintf(tw, "%s%s\t", label, ch)
					for _, st := range breach.DeliveryStates {
						fmt.Fprintf(tw, "%d\t", counts[ch][st])
					}
					fmt.Fprintln(tw)
				}
			}
			printCounts("", s.ByChannel)
			// Then each locale's share, when there is more than one.
			if len(s.ByLocale) > 1 {
				for _, l := range slices.Sorted(maps.Keys(s.ByLocale)) {
					if l == "" {
						printCounts("(unrecorded) ", s.ByLocale[l])
						continue
					}
					printCounts(l+" ", s.ByLocale[l])
				}
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			// Letters have states of their own (printed, mailed, returned): a line of their own.
			if letters := s.ByChannel[breach.ChannelLetter]; letters != nil {
				var n int64
				for _, c := range letters {
					n += c
				}
				if n > 0 {
					fmt.Fprint(a.stdout, "letters:")
					for _, st := range breach.LetterStates {
						fmt.Fprintf(a.stdout, "  %s %d", st, letters[st])
					}
					fmt.Fprintln(a.stdout)
				}
			}
			printRelays(a.stdout, s.Relays)
			return nil
		}),
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the status as JSON")
	return cmd
}

func (a *app) campaignTestSendCommand() *cobra.Command {
	var (
		to        []string
		customers []string
	)
	cmd := &cobra.Command{
		Use:   "test-send ID --to ADDRESS|+PHONE ... [--customer CUSTOMER_ID ...]",
		Short: "Send real notices of chosen customers to reviewers; customers are not touched",
		Long: `Render the notices of the chosen customers (--customer, default the list's first) exactly
as they will be sent, and send them to the reviewers named by --to: an email address gets the
email (subject marked [TEST]), a number in E.164 form (+51987654321) the SMS. Nothing is
recorded against the customers and nothing is sent to them.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			db, err := a.openDB(ctx)
			if err != nil {
				return err
			}
			defer db.Close()
			rd, err := a.renderer()
			if err != nil {
				return err
			}
			mail, text, closeSenders, err := a.senders(nil) // a test send is a handful of messages: no relay rates
			if err != nil {
				return err
			}
			defer closeSenders()
			ops, err := a.newOperations(db, rd, dispatch.TestSender{Renderer: rd, Mail: mail, SMS: text})
			if err != nil {
				return err
			}
			res, err := ops.TestSend(ctx, cliActor(), args[0], operation.TestSendRequest{To: to, Customers: customers})
			if err != nil {
				return err
			}
			for _, s := range res.Sent {
				if s.Error != "" {
					fmt.Fprintf(a.stdout, "FAILED  %s %s notice of %s to %s: %s\n", s.Channel, s.Locale, shown(s.CustomerID), s.To, shown(s.Error))
					continue
				}
				fmt.Fprintf(a.stdout, "sent    %s %s notice of %s to %s (%s)\n", s.Channel, s.Locale, shown(s.CustomerID), s.To, shown(s.ProviderID))
			}
			if res.Failed > 0 {
				return fmt.Errorf("%d of %d test notices failed", res.Failed, len(res.Sent))
			}
			return nil
		},
	}
	cmd.Flags().StringSliceVar(&to, "to", nil, "reviewer email address or E.164 phone number (repeatable)")
	cmd.Flags().StringSliceVar(&customers, "customer", nil, "customer_id whose notice to send (repeatable; default: the list's first)")
	return cmd
}

// printRelays prints what each SMTP relay (SMTP_URLS) did for the campaign, a line each.
func printRelays(w io.Writer, relays []breach.RelayCount) {
	for _, r := range relays {
		fmt.Fprintf(w, "relay %s: sent %d  failed %d  rejected %d", r.Relay, r.Sent, r.Failed, r.Rejected)
		if r.SetAsideUntil != nil {
			fmt.Fprintf(w, "  set aside until %s", r.SetAsideUntil.UTC().Format("2006-01-02 15:04:05 UTC"))
		}
		fmt.Fprintln(w)
	}
}

// printSharedAddresses prints what the approval decided of the addresses customers share (see
// breach.CampaignStatus.Merged and Shared), when it found any.
func printSharedAddresses(w io.Writer, s *breach.CampaignStatus) {
	if m := s.Merged; m != nil {
		fmt.Fprintf(w, "one notice per person and address: %d customer_ids told by the email, %d by the SMS, %d by the letter of the same person's other customer_id\n",
			m[breach.ChannelEmail], m[breach.ChannelSMS], m[breach.ChannelLetter])
	}
	if sh := s.Shared; sh != nil {
		fmt.Fprintf(w, "shared addresses: %d customers' email, %d customers' phone and %d customers' postal address are also a different customer's; each is sent their own notice there (check the list if that is more than families account for: a placeholder address?)\n",
			sh[breach.ChannelEmail], sh[breach.ChannelSMS], sh[breach.ChannelLetter])
	}
}
