package web

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"math"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/breachnotice/breachnotice/internal/breach"
)

// page is what every template sees: the layout's fields and the page's own Data.
type page struct {
	Title string
	User  *breach.User
	// Notice confirms what was just done; Error (with Problems, one per line) says what went
	// wrong and how to fix it.
	Notice   string
	Error    string
	Problems []string
	// Outbox and Queues show the navigation to the local outbox and the queue dashboard.
	Outbox, Queues bool
	// Refresh, when set, reloads the page every so many seconds when script is off (with
	// script on, console.js refreshes the live parts instead).
	Refresh int
	Data    any
}

var funcs = template.FuncMap{
	"when": func(t any) string {
		switch v := t.(type) {
		case time.Time:
			if v.IsZero() {
				return ""
			}
			return v.UTC().Format("2006-01-02 15:04:05 UTC")
		case *time.Time:
			if v == nil {
				return ""
			}
			return v.UTC().Format("2006-01-02 15:04:05 UTC")
		}
		return fmt.Sprint(t)
	},
	"roles": func(rs []breach.Role) string {
		names := make([]string, len(rs))
		for i, r := range rs {
			names[i] = string(r)
		}
		return strings.Join(names, ", ")
	},
	"num":  num,
	"rate": func(f float64) string { return fmt.Sprintf("%.1f", f) },
	"eta": func(secs *float64) string {
		if secs == nil {
			return ""
		}
		d := time.Duration(math.Round(*secs)) * time.Second
		if d < time.Minute {
			return fmt.Sprintf("about %d seconds", int(d.Seconds()))
		}
		return "about " + d.Round(time.Minute).String()
	},
}

// parseTemplates builds each page from the layout (base.html), the partials (_*.html) and
// the page's own file.
func (s *Server) parseTemplates() error {
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return err
	}
	var shared []string
	for _, n := range names {
		if base := path.Base(n); base == "base.html" || strings.HasPrefix(base, "_") {
			shared = append(shared, n)
		}
	}
	s.pages = map[string]*template.Template{}
	for _, n := range names {
		base := path.Base(n)
		if base == "base.html" || strings.HasPrefix(base, "_") {
			continue
		}
		t, err := template.New(base).Funcs(funcs).ParseFS(templateFS, append(shared, n)...)
		if err != nil {
			return fmt.Errorf("web: template %s: %w", base, err)
		}
		s.pages[strings.TrimSuffix(base, ".html")] = t
	}
	return nil
}

// render writes a page, executing the template into a buffer first so that a template error
// becomes a 500 rather than half a page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name, title string, data any) {
	s.renderPage(w, r, status, name, &page{Title: title, Data: data})
}

// renderError writes a page with an error message above its content.
func (s *Server) renderError(w http.ResponseWriter, r *http.Request, status int, name, title string, data any, msg string, problems ...string) {
	s.renderPage(w, r, status, name, &page{Title: title, Data: data, Error: msg, Problems: problems})
}

// fail writes the error page: what went wrong, and a way back.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, status int, msg string) {
	s.renderPage(w, r, status, "error", &page{Title: http.StatusText(status), Error: msg})
}

func (s *Server) renderPage(w http.ResponseWriter, r *http.Request, status int, name string, p *page) {
	p.User = userOf(r.Context())
	p.Outbox = s.Outbox != nil && p.User != nil
	p.Queues = s.Queues != nil && p.User != nil && p.User.Can(breach.RoleOperator)
	s.execute(w, r, status, name, "base", p)
}

// execute runs one template of a page's set.
func (s *Server) execute(w http.ResponseWriter, r *http.Request, status int, name, tmpl string, data any) {
	t, ok := s.pages[name]
	if !ok {
		s.Log.Error("no such page template", "page", name)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, tmpl, data); err != nil {
		s.Log.Error("render page", "page", name, "route", r.Pattern, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
}
