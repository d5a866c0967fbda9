// Package campaignfile reads campaign files: the YAML an incident team writes to describe a
// breach notification (see examples/campaign.yaml). Every error names the file, the line and
// the field, e.g. `campaign.yaml:12: sender.email: "security@" is not an email address`.
package campaignfile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/breachnotice/breachnotice/internal/breach"
)

// MaxSize bounds a campaign file; real ones are a few kilobytes.
const MaxSize = 1 << 20

// Error lists the problems of a campaign file, each with its line.
type Error struct {
	File     string
	Problems []Problem
}

// Problem is one mistake in a campaign file. Line is 0 when the field is missing altogether.
type Problem struct {
	Line    int    `json:"line,omitempty"`
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
}

func (e *Error) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = e.format(p)
	}
	return strings.Join(lines, "\n")
}

// Unwrap makes the problems an EINVALID application error, with every line in its message.
func (e *Error) Unwrap() error { return breach.Errorf(breach.EINVALID, "%s", e.Error()) }

func (e *Error) format(p Problem) string {
	var b strings.Builder
	b.WriteString(e.File)
	if p.Line > 0 {
		b.WriteString(":" + strconv.Itoa(p.Line))
	}
	b.WriteString(": ")
	if p.Field != "" {
		b.WriteString(p.Field + ": ")
	}
	b.WriteString(p.Message)
	return b.String()
}

// Parse reads and validates a campaign file. name is used in error messages. The returned
// error is an *Error for any problem of the file's content, an incident date in the future
// (after today anywhere) among them.
func Parse(name string, r io.Reader) (*breach.Campaign, []byte, error) {
	return ParseAt(name, r, time.Now())
}

// ParseAt is Parse on the day of now: incident dates after it (anywhere on Earth) are refused.
func ParseAt(name string, r io.Reader, now time.Time) (*breach.Campaign, []byte, error) {
	src, err := io.ReadAll(io.LimitReader(r, MaxSize+1))
	if err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", name, err)
	}
	if len(src) > MaxSize {
		return nil, nil, &Error{File: name, Problems: []Problem{{Message: fmt.Sprintf("file is larger than %d KiB", MaxSize>>10)}}}
	}
	var root yaml.Node
	if err := yaml.Unmarshal(src, &root); err != nil {
		return nil, nil, yamlError(name, err)
	}
	if len(root.Content) == 0 {
		return nil, nil, &Error{File: name, Problems: []Problem{{Message: "file is empty"}}}
	}
	if err := checkControls(name, root.Content[0]); err != nil {
		return nil, nil, err
	}
	if err := checkDates(name, root.Content[0]); err != nil {
		return nil, nil, err
	}
	var c breach.Campaign
	dec := yaml.NewDecoder(bytes.NewReader(src))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		return nil, nil, yamlError(name, err)
	}
	// Every problem in one answer: the dates' too, so that a file is not mended in two rounds.
	e := &Error{File: name}
	for _, err := range []error{c.Validate(), c.CheckIncidentDates(breach.LatestDate(now))} {
		if err == nil {
			continue
		}
		var v *breach.ValidationError
		if !errors.As(err, &v) {
			return nil, nil, err
		}
		for _, f := range v.Fields {
			e.Problems = append(e.Problems, Problem{Line: lineOf(root.Content[0], f.Path), Field: f.Path, Message: f.Message})
		}
	}
	if len(e.Problems) > 0 {
		return nil, nil, e
	}
	return &c, src, nil
}

var yamlLine = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

// yamlError turns the YAML library's errors ("line 12: field sendr not found in type …") into
// Problems with lines.
func yamlError(name string, err error) error {
	var msgs []string
	var te *yaml.TypeError
	if errors.As(err, &te) {
		msgs = te.Errors
	} else {
		msgs = []string{err.Error()}
	}
	e := &Error{File: name}
	for _, m := range msgs {
		p := Problem{Message: m}
		if sm := yamlLine.FindStringSubmatch(m); sm != nil {
			p.Line, _ = strconv.Atoi(sm[1])
			p.Message = friendlier(sm[2])
		}
		e.Problems = append(e.Problems, p)
	}
	return e
}

var unknownField = regexp.MustCompile(`^field (\S+) not found in type \S+$`)

func friendlier(msg string) string {
	if m := unknownField.FindStringSubmatch(msg); m != nil {
		return fmt.Sprintf("unknown field %q (misspelt, or not a campaign-file field)", m[1])
	}
	return msg
}

// lineOf finds the line of a dotted path ("sender.email", "locales[2]", "incident.summary.fr")
// in a YAML document: the line of its key, or of the nearest ancestor's key when the field is
// missing.
func lineOf(n *yaml.Node, path string) int {
	line := n.Line
	for _, part := range splitPath(path) {
		keyLine, next := child(n, part)
		if next == nil {
			return line
		}
		n, line = next, keyLine
	}
	return line
}

func splitPath(path string) []string {
	var parts []string
	for _, p := range strings.Split(path, ".") {
		if i := strings.IndexByte(p, '['); i > 0 {
			parts = append(parts, p[:i], p[i:])
			continue
		}
		parts = append(parts, p)
	}
	return parts
}

// child returns the node at part ("name" in a mapping, "[2]" in a sequence) and the line that
// names it (the key's line in a mapping).
func child(n *yaml.Node, part string) (int, *yaml.Node) {
	if strings.HasPrefix(part, "[") {
		i, err := strconv.Atoi(strings.Trim(part, "[]"))
		if err != nil || n.Kind != yaml.SequenceNode || i >= len(n.Content) {
			return 0, nil
		}
		return n.Content[i].Line, n.Content[i]
	}
	if n.Kind != yaml.MappingNode {
		return 0, nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == part {
			return n.Content[i].Line, n.Content[i+1]
		}
	}
	return 0, nil
}

// dateFields are the campaign file's dates. They are checked on the document before decoding
// because the YAML library reports a value its target type refuses without the value's line.
var dateFields = []string{"incident.occurred_from", "incident.occurred_to", "incident.discovered_on", "offer.enroll_by"}

func checkDates(name string, doc *yaml.Node) error {
	e := &Error{File: name}
	for _, path := range dateFields {
		n := doc
		var line int
		for _, part := range splitPath(path) {
			if line, n = child(n, part); n == nil {
				break
			}
		}
		if n == nil || n.Kind != yaml.ScalarNode || n.Value == "" || n.Tag == "!!null" {
			continue
		}
		if _, err := breach.ParseDate(n.Value); err != nil {
			e.Problems = append(e.Problems, Problem{Line: line, Field: path, Message: err.Error()})
		}
	}
	if len(e.Problems) > 0 {
		return e
	}
	return nil
}

// checkControls refuses a value holding a control character other than a tab or a line break:
// YAML's escapes ("\0", "\x1b", "\u0007") write them into a double-quoted string, and a NUL,
// which PostgreSQL cannot store, made the upload fail as an internal error; the others have no
// place in a notice either (an escape sequence in the organization's name reaches operators'
// terminals).
func checkControls(name string, doc *yaml.Node) error {
	e := &Error{File: name}
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		if n.Kind == yaml.ScalarNode {
			if i := strings.IndexFunc(n.Value, func(r rune) bool {
				return r < 0x20 && r != '\t' && r != '\n' && r != '\r' || r == 0x7f || r >= 0x80 && r < 0xa0
			}); i >= 0 {
				r := []rune(n.Value[i:])[0]
				e.Problems = append(e.Problems, Problem{Line: n.Line,
					Message: fmt.Sprintf("the value holds the control character %U: remove it (tabs and line breaks are fine)", r)})
			}
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	walk(doc)
	if len(e.Problems) > 0 {
		return e
	}
	return nil
}
