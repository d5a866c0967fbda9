package notice

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	htmltemplate "html/template"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"
	texttemplate "text/template"

	"go.yaml.in/yaml/v3"

	"github.com/breachnotice/breachnotice/internal/breach"
	"github.com/breachnotice/breachnotice/templates"
)

// wording is one locale's strings (templates/locales/<locale>.yaml), each parsed as a template.
type wording struct {
	strings       map[string]*texttemplate.Template
	months        []string
	bureaus       []string
	categoryNames map[string]string
	// categoryNamesByCountry names a category where it differs by country (a national ID
	// is a Social Security number in the US, a resident registration number in Korea).
	categoryNamesByCountry map[string]map[string]string
}

// categoryName is the name of a category for a customer of country.
func (w *wording) categoryName(category, country string) string {
	if name := w.categoryNamesByCountry[country][category]; name != "" {
		return name
	}
	return w.categoryNames[category]
}

// guidance is one locale's steps per category and country ("default" for the rest).
type guidance map[string]map[string][]string

// requiredStrings are the keys every locale file must have; a missing one fails loading.
var requiredStrings = []string{"date_format", "subject", "subject_us_ca", "title", "title_us_ca",
	"greeting", "greeting_anonymous", "intro", "heading_what_happened", "heading_what_information",
	"heading_what_we_are_doing", "heading_what_you_can_do", "heading_more_information",
	"heading_consequences", "heading_offer", "heading_verify", "heading_rights", "heading_remedy",
	"when_range", "when_single", "information_intro", "guidance_intro", "never_ask", "reference",
	"offer", "offer_no_code", "offer_no_deadline", "offer_no_code_no_deadline", "intro_no_description",
	"actions_no_description", "contact", "dpo", "us_police_report",
	"us_credit_freeze", "us_bureaus_intro", "us_ftc", "kr_remedy", "signoff", "signature", "footer",
	"optout", "sms", "sms_link", "sms_more_categories", "category_and",
	"optout_page_title", "optout_page_question", "optout_page_button", "optout_page_done"}

// optionalCodeMissing is the locale string telling a customer without an enrolment code how
// to get theirs (see offerView.Missing). Optional, unlike requiredStrings: a locale file of
// TEMPLATES_DIR written before it existed still loads, and its notices go without it.
const optionalCodeMissing = "offer_code_missing"

// overlay reads a file from dir when it has it, else from the embedded defaults.
type overlay struct{ dir fs.FS }

func (o overlay) Open(name string) (fs.File, error) {
	if o.dir != nil {
		f, err := o.dir.Open(name)
		if err == nil {
			return f, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
	}
	return templates.FS.Open(name)
}

// digesting reads fsys's files for load and hashes each one read, with its name, in the order
// read (load's, always the same): the digest of what the notices are rendered from.
type digesting struct {
	fsys fs.FS
	h    hash.Hash
}

func (d digesting) Open(name string) (fs.File, error) { return d.fsys.Open(name) }

// ReadFile is how load reads every file it uses (fs.ReadFile calls it).
func (d digesting) ReadFile(name string) ([]byte, error) {
	b, err := fs.ReadFile(d.fsys, name)
	if err == nil {
		fmt.Fprintf(d.h, "%d:%s %d:", len(name), name, len(b))
		d.h.Write(b)
	}
	return b, err
}

// load reads and parses every template, failing on the first broken one with its file and line.
func (rd *Renderer) load(dir string) error {
	var base fs.FS = overlay{}
	if dir != "" {
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			return fmt.Errorf("templates: %s is not a directory", dir)
		}
		base = overlay{dir: os.DirFS(dir)}
	}
	d := digesting{fsys: base, h: sha256.New()}
	defer func() { rd.files = hex.EncodeToString(d.h.Sum(nil)) }()
	var fsys fs.FS = d
	funcs := map[string]any{"upper": strings.ToUpper}
	src, err := fs.ReadFile(fsys, "email.html.tmpl")
	if err != nil {
		return fmt.Errorf("templates: %w", err)
	}
	if rd.html, err = htmltemplate.New("email.html.tmpl").Funcs(funcs).Parse(string(src)); err != nil {
		return fmt.Errorf("templates: %w", err)
	}
	if src, err = fs.ReadFile(fsys, "email.txt.tmpl"); err != nil {
		return fmt.Errorf("templates: %w", err)
	}
	if rd.text, err = texttemplate.New("email.txt.tmpl").Funcs(funcs).Parse(string(src)); err != nil {
		return fmt.Errorf("templates: %w", err)
	}
	if src, err = fs.ReadFile(fsys, "optout.html.tmpl"); err != nil {
		return fmt.Errorf("templates: %w", err)
	}
	if rd.optout, err = htmltemplate.New("optout.html.tmpl").Parse(string(src)); err != nil {
		return fmt.Errorf("templates: %w", err)
	}
	if src, err = fs.ReadFile(fsys, "website.html.tmpl"); err != nil {
		return fmt.Errorf("templates: %w", err)
	}
	if rd.website, err = htmltemplate.New("website.html.tmpl").Funcs(funcs).Parse(string(src)); err != nil {
		return fmt.Errorf("templates: %w", err)
	}
	rd.wording, rd.guidance = map[string]*wording{}, map[string]guidance{}
	for _, name := range mergedNames(fsys, dir, "locales") {
		locale := strings.TrimSuffix(name, ".yaml")
		w, err := loadWording(fsys, "locales/"+name)
		if err != nil {
			return err
		}
		rd.wording[locale] = w
		g, err := loadGuidance(fsys, "guidance/"+name)
		if err != nil {
			return err
		}
		rd.guidance[locale] = g
	}
	return rd.loadVerify(fsys, dir)
}

// mergedNames lists the .yaml files of a templates subdirectory, embedded and overriding.
func mergedNames(fsys fs.FS, dir, sub string) []string {
	var names []string
	add := func(f fs.FS) {
		entries, _ := fs.ReadDir(f, sub)
		for _, e := range entries {
			if strings.HasSuffix(e.Name(), ".yaml") && !slices.Contains(names, e.Name()) {
				names = append(names, e.Name())
			}
		}
	}
	add(templates.FS)
	if dir != "" {
		add(os.DirFS(dir))
	}
	slices.Sort(names)
	return names
}

func loadWording(fsys fs.FS, name string) (*wording, error) {
	root, err := readYAML(fsys, name)
	if err != nil {
		return nil, err
	}
	w := &wording{strings: map[string]*texttemplate.Template{}, categoryNames: map[string]string{}}
	for i := 0; i+1 < len(root.Content); i += 2 {
		key, val := root.Content[i], root.Content[i+1]
		where := fmt.Sprintf("templates: %s:%d: %s", name, key.Line, key.Value)
		switch key.Value {
		case "months", "us_bureaus":
			var list []string
			if err := val.Decode(&list); err != nil {
				return nil, fmt.Errorf("%s: a list of strings is needed: %w", where, err)
			}
			if key.Value == "months" {
				w.months = list
			} else {
				w.bureaus = list
			}
		case "category_names":
			if err := val.Decode(&w.categoryNames); err != nil {
				return nil, fmt.Errorf("%s: a map of category to name is needed: %w", where, err)
			}
		case "category_names_by_country":
			if err := val.Decode(&w.categoryNamesByCountry); err != nil {
				return nil, fmt.Errorf("%s: a map of country to a map of category to name is needed: %w", where, err)
			}
		default:
			if val.Kind != yaml.ScalarNode {
				return nil, fmt.Errorf("%s: a string is needed", where)
			}
			t, err := texttemplate.New(fmt.Sprintf("%s:%d", name, val.Line)).Option("missingkey=error").Parse(val.Value)
			if err != nil {
				return nil, fmt.Errorf("templates: %s: %w", key.Value, err)
			}
			w.strings[key.Value] = t
		}
	}
	for _, k := range requiredStrings {
		if w.strings[k] == nil {
			return nil, fmt.Errorf("templates: %s: the key %q is missing", name, k)
		}
	}
	if len(w.months) != 12 {
		return nil, fmt.Errorf("templates: %s: months must list 12 names, not %d", name, len(w.months))
	}
	for _, c := range breach.AllCategories() {
		if w.categoryNames[c.String()] == "" {
			return nil, fmt.Errorf("templates: %s: category_names has no name for %s", name, c)
		}
	}
	return w, nil
}

func loadGuidance(fsys fs.FS, name string) (guidance, error) {
	root, err := readYAML(fsys, name)
	if err != nil {
		return nil, err
	}
	var g guidance
	if err := root.Decode(&g); err != nil {
		return nil, fmt.Errorf("templates: %s: %w", name, err)
	}
	for _, c := range breach.AllCategories() {
		if len(g[c.String()]["default"]) == 0 {
			return nil, fmt.Errorf("templates: %s: no default guidance for %s", name, c)
		}
	}
	return g, nil
}

func readYAML(fsys fs.FS, name string) (*yaml.Node, error) {
	src, err := fs.ReadFile(fsys, path.Clean(name))
	if err != nil {
		return nil, fmt.Errorf("templates: %w", err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return nil, fmt.Errorf("templates: %s: %w", name, err)
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("templates: %s: a YAML map is needed", name)
	}
	return doc.Content[0], nil
}
