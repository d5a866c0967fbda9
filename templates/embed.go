// Package templates holds the default notice templates, embedded in the binary: the email
// layouts (email.html.tmpl, email.txt.tmpl), the wording of each locale (locales/*.yaml) and the
// protective guidance per data category (guidance/*.yaml), and the public verification page
// (verify.html.tmpl, its wording in verify/*.yaml). A directory with the same layout
// (TEMPLATES_DIR) overrides any of these files; see package notice.
package templates

import "embed"

// FS holds the default templates.
//
//go:embed *.tmpl locales/*.yaml guidance/*.yaml verify/*.yaml
var FS embed.FS
