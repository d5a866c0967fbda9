package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/operation"
)

func (a *app) lettersCommand() *cobra.Command {
	var campaign, out string
	cmd := &cobra.Command{
		Use:   "letters --campaign ID --out DIR",
		Short: "Print-ready PDF letters and the print vendor's manifest, for customers reached by post",
		Long: `Write one PDF per customer owed a letter under the campaign's letter_policy (by default those
with a postal address and neither email nor phone) into DIR, then DIR/manifest.csv for the print
vendor (customer_id, reference, name, address lines, pages, file). A letter that would not print
as written (a script the letter's typefaces lack, such as Chinese or Japanese; right-to-left text;
an address line too long for the envelope's window) is held: not printed, listed in DIR/held.csv
with why, for the team to send another way (it stays pending: not reached). The campaign must be approved,
running, paused or completed. The letters are recorded printed; running it again writes the same
letters (and any owed since) without recording them twice. DIR must be new or empty of letters.

Then: "letters mailed --all" when the vendor has posted them, "letters returned FILE" for returned mail.`,
		Args: cobra.NoArgs,
		RunE: a.withOps(func(cmd *cobra.Command, _ []string, ops *operation.Service) error {
			rep, err := ops.Letters(cmd.Context(), cliActor(), campaign, func(*breach.Campaign) (operation.LetterSink, error) {
				return &operation.DirSink{Dir: out}, nil
			})
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "%d letters (%d newly printed, %d pages) and manifest.csv written to %s\n", rep.Letters, rep.Printed, rep.Pages, out)
			if len(rep.Held) > 0 {
				fmt.Fprintf(a.stdout, "%d letters held, not printed (listed in %s with why): they stay pending; send them another way\n",
					len(rep.Held), filepath.Join(out, "held.csv"))
				for i, h := range rep.Held {
					if i == 10 {
						fmt.Fprintf(a.stdout, "  … and %d more\n", len(rep.Held)-i)
						break
					}
					fmt.Fprintf(a.stdout, "  %s: %s\n", shown(h.CustomerID), h.Reason)
				}
			}
			return nil
		}),
	}
	cmd.Flags().StringVar(&campaign, "campaign", "", "campaign ID (required)")
	cmd.Flags().StringVar(&out, "out", "", "directory to write the letters and manifest.csv into (required)")
	_ = cmd.MarkFlagRequired("campaign")
	_ = cmd.MarkFlagRequired("out")
	cmd.AddCommand(a.lettersMarkCommand("mailed"), a.lettersMarkCommand("returned"))
	return cmd
}

// lettersMarkCommand is "letters mailed (--all | FILE)" or "letters returned FILE".
func (a *app) lettersMarkCommand(what string) *cobra.Command {
	var (
		campaign string
		asJSON   bool
		all      bool
	)
	use, short, args := "mailed --campaign ID (--all | FILE)", "Record printed letters as mailed: all of them (--all), or the customers FILE names", cobra.MaximumNArgs(1)
	if what == "returned" {
		use, short, args = "returned --campaign ID FILE", "Record returned mail from a CSV (customer_id or reference, and reason)", cobra.ExactArgs(1)
	}
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Long: short + `.

FILE is a CSV whose header names customer_id or reference (the code printed on each letter, as
the manifest lists it), and optionally reason; "-" reads standard input. Lines that cannot be
used are listed with their line number and why; the others are recorded.`,
		Args: args,
		RunE: a.withOps(func(cmd *cobra.Command, args []string, ops *operation.Service) error {
			var file io.Reader
			if len(args) == 1 {
				if args[0] == "-" {
					file = cmd.InOrStdin()
				} else {
					f, err := os.Open(args[0])
					if err != nil {
						return err
					}
					defer f.Close()
					file = f
				}
			}
			var (
				rep *breach.LetterMarkReport
				err error
			)
			if what == "returned" {
				rep, err = ops.LettersReturned(cmd.Context(), cliActor(), campaign, file)
			} else {
				rep, err = ops.LettersMailed(cmd.Context(), cliActor(), campaign, all, file)
			}
			if err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(a.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(rep)
			}
			fmt.Fprintf(a.stdout, "%d letters now %s, %d were already, %d lines not used\n", rep.Moved, rep.State, rep.Unchanged, len(rep.Rejects))
			for _, r := range rep.Rejects {
				fmt.Fprintf(a.stdout, "  line %d: %s\n", r.Line, r.Reason)
			}
			return nil
		}),
	}
	cmd.Flags().StringVar(&campaign, "campaign", "", "campaign ID (required)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON")
	if what == "mailed" {
		cmd.Flags().BoolVar(&all, "all", false, "every printed letter was posted (instead of FILE)")
	}
	_ = cmd.MarkFlagRequired("campaign")
	return cmd
}
