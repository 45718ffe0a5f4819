// Package web holds the application's HTML templates and static files, embedded
// in the binary so that the server runs from any working directory.
package web

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"path"
	"strings"
	"time"
)

//go:embed templates static
var files embed.FS

// layoutFile is the page frame that every page template fills in by defining
// the "title" and "content" templates.
const layoutFile = "templates/layout.html"

// Static returns the embedded static files (style sheet, icons), rooted so that
// "style.css" names static/style.css. Folders do not open, so a file server
// built on it lists no directory.
func Static() fs.FS {
	static, err := fs.Sub(files, "static")
	if err != nil {
		// fs.Sub fails only for an invalid path, and "static" is a constant.
		panic(err)
	}
	return filesOnly{static}
}

// filesOnly is a file system whose folders report fs.ErrNotExist.
type filesOnly struct{ fs.FS }

func (f filesOnly) Open(name string) (fs.File, error) {
	file, err := f.FS.Open(name)
	if err != nil {
		return nil, err
	}
	info, err := file.Stat()
	if err != nil || info.IsDir() {
		file.Close()
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	return file, nil
}

// Pages renders the embedded HTML pages. The zero value is not usable: build
// one with NewPages.
type Pages struct {
	pages map[string]*template.Template
}

// NewPages parses every page under templates/ once, each together with the
// layout. It fails when a template does not parse.
func NewPages() (*Pages, error) {
	names, err := fs.Glob(files, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("web: list templates: %w", err)
	}

	layout, err := template.New(path.Base(layoutFile)).Funcs(funcs).ParseFS(files, layoutFile)
	if err != nil {
		return nil, fmt.Errorf("web: parse layout: %w", err)
	}

	p := &Pages{pages: make(map[string]*template.Template)}
	for _, name := range names {
		if name == layoutFile {
			continue
		}
		page, err := template.Must(layout.Clone()).ParseFS(files, name)
		if err != nil {
			return nil, fmt.Errorf("web: parse %s: %w", name, err)
		}
		p.pages[strings.TrimSuffix(path.Base(name), ".html")] = page
	}
	return p, nil
}

// Render writes the page called name, such as "launch", to w. It executes the
// template into a buffer first, so w receives nothing when rendering fails.
func (p *Pages) Render(w io.Writer, name string, data any) error {
	page, ok := p.pages[name]
	if !ok {
		return fmt.Errorf("web: no page named %q", name)
	}

	var buf bytes.Buffer
	if err := page.ExecuteTemplate(&buf, path.Base(layoutFile), data); err != nil {
		return fmt.Errorf("web: render %s: %w", name, err)
	}
	_, err := buf.WriteTo(w)
	return err
}

var funcs = template.FuncMap{
	// timestamp formats t for people in any time zone: UTC, to the second.
	"timestamp": func(t time.Time) string {
		return t.UTC().Format("2006-01-02 15:04:05 UTC")
	},
	// until formats the time left before t, to the minute.
	"until": func(t time.Time) string { return untilText(time.Until(t)) },
}

// untilText renders a remaining duration for people, such as "in 1 hour 5
// minutes".
func untilText(d time.Duration) string {
	if d <= 0 {
		return "now (expired)"
	}
	if d < time.Minute {
		return "in under a minute"
	}
	minutes := int(d.Round(time.Minute) / time.Minute)
	hours, minutes := minutes/60, minutes%60
	switch {
	case hours == 0:
		return "in " + plural(minutes, "minute")
	case minutes == 0:
		return "in " + plural(hours, "hour")
	default:
		return "in " + plural(hours, "hour") + " " + plural(minutes, "minute")
	}
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}
