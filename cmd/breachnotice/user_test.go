package main

import (
	"regexp"
	"strings"
	"testing"
)

func TestCLI_UserAddPrintsAGeneratedPasswordOrTakesOneFromStdin(t *testing.T) {
	out, stderr, err := cli(t, "", "user", "add", "--login", "Lucia", "--name", "Lucía Paredes", "--role", "operator,approver")
	if err != nil {
		t.Fatalf("user add: %v\n%s", err, stderr)
	}
	if !strings.Contains(out, "created user lucia (Lucía Paredes) with roles [approver operator]") ||
		!regexp.MustCompile(`password \(shown once\): [A-Z2-7]{26}\n`).MatchString(out) {
		t.Errorf("user add printed %q", out)
	}
	out, stderr, err = cli(t, "correct horse battery staple\n", "user", "add", "--login", "viewer1", "--role", "viewer", "--password-stdin")
	if err != nil || strings.Contains(out, "password") {
		t.Errorf("user add --password-stdin: %v, printed %q\n%s", err, out, stderr)
	}
	for _, bad := range []struct {
		stdin string
		args  []string
		want  string
	}{
		{"", []string{"--login", "lucia", "--role", "viewer"}, `a user with login "lucia" already exists`},
		{"", []string{"--login", "x", "--role", "admin"}, `unknown role "admin"`},
		{"short\n", []string{"--login", "y", "--role", "viewer", "--password-stdin"}, "at least 12 characters"},
		{"", []string{"--login", "../root", "--role", "viewer"}, "a login is 1 to 64 letters"},
	} {
		_, stderr, err := cli(t, bad.stdin, append([]string{"user", "add"}, bad.args...)...)
		if err == nil || !strings.Contains(stderr, bad.want) {
			t.Errorf("user add %v: %v, stderr %q; want an error saying %q", bad.args, err, stderr, bad.want)
		}
	}
	if _, stderr, err := cli(t, "", "user", "disable", "--login", "lucia"); err != nil {
		t.Errorf("user disable: %v\n%s", err, stderr)
	}
	if _, stderr, err := cli(t, "", "user", "disable", "--login", "nobody"); err == nil || !strings.Contains(stderr, `no user with login "nobody"`) {
		t.Errorf("disabling an unknown user: %v, %q", err, stderr)
	}
}
