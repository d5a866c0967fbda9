package main

import (
	"encoding/json"
	"fmt"
	"os"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/operation"
)

func (a *app) tokenCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "token", Short: "Manage operator API tokens: create, list, revoke"}
	cmd.AddCommand(a.tokenCreateCommand(), a.tokenListCommand(), a.tokenRevokeCommand())
	return cmd
}

func (a *app) tokenCreateCommand() *cobra.Command {
	var (
		name, login   string
		expires       time.Duration
		passwordStdin bool
	)
	create := &cobra.Command{
		Use:   "create --name NAME [--user LOGIN [--password-stdin]] [--expires DURATION]",
		Short: "Create an operator token and print it (once: only its hash is stored)",
		Long: `Create an operator token for the HTTP API and print it, once: only its hash is stored.

With --user the token belongs to that console user (breachnotice user add): it acts as the user
("user:LOGIN" in the audit log, as in the console) with the user's roles — viewer reads,
operator changes everything but approvals, approver approves — and stops working as soon as
the user is disabled. Give each person their own bound token: a campaign that needs two people
(approval: two_person) can only be approved by two users, in the console or through bound
tokens. Because a bound token acts as its user, it is made only with their consent: the user
types their console password when asked (or gives it on the first line of standard input with
--password-stdin).

Without --user the token acts as "token:NAME" and may use every route, but cannot approve a
campaign that needs two people.

A token expires after --expires (default 2160h, 90 days; 0 for never) and can be revoked at
any moment with breachnotice token revoke NAME.`,
		Args: cobra.NoArgs,
		RunE: a.withOps(func(cmd *cobra.Command, _ []string, ops *operation.Service) error {
			req := operation.TokenRequest{Name: name, User: login, Lifetime: expires}
			if login != "" {
				pw, err := a.userPassword(cmd, login, passwordStdin)
				if err != nil {
					return err
				}
				req.Password = pw
			}
			if expires == 0 {
				req.Lifetime, req.Never = 0, true
			}
			token, info, err := ops.CreateToken(cmd.Context(), cliActor(), req)
			if err != nil {
				return err
			}
			fmt.Fprintln(a.stdout, token)
			until := "never expires"
			if info.ExpiresAt != nil {
				until = "expires " + info.ExpiresAt.Format(time.RFC3339)
			}
			fmt.Fprintf(a.stderr, "Keep this token: it is shown only once (%s). Use it as: Authorization: Bearer <token>\n", until)
			return nil
		}),
	}
	create.Flags().StringVar(&name, "name", "", "who or what the token is for (unique)")
	create.Flags().StringVar(&login, "user", "", "the console user the token acts for, with their roles")
	create.Flags().BoolVar(&passwordStdin, "password-stdin", false, "with --user: read the user's password from the first line of standard input instead of asking for it")
	create.Flags().DurationVar(&expires, "expires", operation.DefaultTokenLifetime, "how long the token lives (0: never)")
	_ = create.MarkFlagRequired("name")
	return create
}

func (a *app) tokenListCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List operator tokens: name, user, created, expires, last used, revoked",
		Args:  cobra.NoArgs,
		RunE: a.withOps(func(cmd *cobra.Command, _ []string, ops *operation.Service) error {
			ts, err := ops.Tokens(cmd.Context(), cliActor())
			if err != nil {
				return err
			}
			if asJSON {
				return json.NewEncoder(a.stdout).Encode(map[string]any{"tokens": ts})
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tUSER\tSTATE\tCREATED\tEXPIRES\tLAST USED")
			now := time.Now()
			for _, t := range ts {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", t.Name, orDash(t.User), tokenState(&t, now),
					t.CreatedAt.Format(time.DateTime), timeOr(t.ExpiresAt, "never"), timeOr(t.LastUsedAt, "never"))
			}
			return tw.Flush()
		}),
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func (a *app) tokenRevokeCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "revoke NAME",
		Short: "Revoke an operator token at once: its next request is refused",
		Args:  cobra.ExactArgs(1),
		RunE: a.withOps(func(cmd *cobra.Command, args []string, ops *operation.Service) error {
			if err := ops.RevokeToken(cmd.Context(), cliActor(), args[0]); err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "Revoked token %s\n", args[0])
			return nil
		}),
	}
}

func tokenState(t *breach.TokenInfo, now time.Time) string {
	switch {
	case t.RevokedAt != nil:
		return "revoked " + t.RevokedAt.Format(time.DateTime)
	case t.UserDisabled:
		return "user disabled"
	case !t.Live(now):
		return "expired"
	default:
		return "live"
	}
}

func timeOr(t *time.Time, none string) string {
	if t == nil {
		return none
	}
	return t.Format(time.DateTime)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// userPassword is the password of login, for a token that acts as them: the first line of
// standard input with --password-stdin, else typed at the terminal (not echoed). Without a
// terminal and without the flag it is refused, not read from a pipe nobody meant for it.
func (a *app) userPassword(cmd *cobra.Command, login string, fromStdin bool) (string, error) {
	if fromStdin {
		return readPassword(cmd.InOrStdin())
	}
	in, ok := cmd.InOrStdin().(*os.File)
	if !ok || !term.IsTerminal(int(in.Fd())) {
		return "", fmt.Errorf("a token that acts as %s needs their password: let them type it at a terminal, or give it with --password-stdin", login)
	}
	fmt.Fprintf(a.stderr, "Password of %s (they type it; a token acting as them needs their consent): ", login)
	pw, err := term.ReadPassword(int(in.Fd()))
	fmt.Fprintln(a.stderr)
	if err != nil {
		return "", fmt.Errorf("read the password: %w", err)
	}
	return string(pw), nil
}
