package main

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/internal/operation"
)

func (a *app) userCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "user", Short: "Manage the web console's users"}
	cmd.AddCommand(a.userAddCommand(), a.userDisableCommand())
	return cmd
}

func (a *app) userAddCommand() *cobra.Command {
	var (
		login, name   string
		roles         []string
		passwordStdin bool
	)
	cmd := &cobra.Command{
		Use:   "add --login LOGIN --role ROLE[,ROLE] [--name NAME] [--password-stdin]",
		Short: "Create a console user; the password is generated and printed unless given on stdin",
		Long: `Create a user of the web console. Roles add up:

  viewer    reads campaigns, previews and tracking (every user can)
  operator  creates campaigns, uploads lists, sends tests, starts, pauses, resumes, cancels
  approver  approves campaigns

Give --role operator,approver for both. With --password-stdin the password is the first line
of standard input (at least 12 characters); otherwise one is generated and printed once.
Only an argon2id hash of it is stored.`,
		Args: cobra.NoArgs,
		RunE: a.withOps(func(cmd *cobra.Command, _ []string, ops *operation.Service) error {
			rs, err := breach.ParseRoles(roles)
			if err != nil {
				return fmt.Errorf("--role: %w", err)
			}
			req := operation.NewUser{Login: login, Name: name, Roles: rs}
			if passwordStdin {
				if req.Password, err = readPassword(cmd.InOrStdin()); err != nil {
					return err
				}
			}
			u, made, err := ops.CreateUser(cmd.Context(), cliActor(), req)
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "created user %s (%s) with roles %v\n", u.Login, u.DisplayName, u.Roles)
			if made != "" {
				fmt.Fprintf(a.stdout, "password (shown once): %s\n", made)
			}
			return nil
		}),
	}
	cmd.Flags().StringVar(&login, "login", "", "the user's login (letters, digits, '.', '_', '-')")
	cmd.Flags().StringVar(&name, "name", "", "the user's name as the console shows it (default: the login)")
	cmd.Flags().StringSliceVar(&roles, "role", nil, "viewer, operator or approver (repeatable, or comma-separated)")
	cmd.Flags().BoolVar(&passwordStdin, "password-stdin", false, "read the password from the first line of standard input")
	_ = cmd.MarkFlagRequired("login")
	_ = cmd.MarkFlagRequired("role")
	return cmd
}

// readPassword reads the first line of r, without its line ending.
func readPassword(r io.Reader) (string, error) {
	line, err := bufio.NewReader(io.LimitReader(r, 4096)).ReadString('\n')
	if err != nil && err != io.EOF {
		return "", fmt.Errorf("read the password from stdin: %w", err)
	}
	return strings.TrimRight(line, "\r\n"), nil
}

func (a *app) userDisableCommand() *cobra.Command {
	var login string
	cmd := &cobra.Command{
		Use:   "disable --login LOGIN",
		Short: "Stop a console user from signing in, and end their sessions",
		Args:  cobra.NoArgs,
		RunE: a.withOps(func(cmd *cobra.Command, _ []string, ops *operation.Service) error {
			if err := ops.DisableUser(cmd.Context(), cliActor(), login); err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "disabled user %s\n", login)
			return nil
		}),
	}
	cmd.Flags().StringVar(&login, "login", "", "the user's login")
	_ = cmd.MarkFlagRequired("login")
	return cmd
}
