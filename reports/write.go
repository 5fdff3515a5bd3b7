package reports

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// File is one rendered report file.
type File struct {
	Name    string
	Content []byte
}

// reporters are the files Render makes beside report.json, by file name.
var reporters = []struct {
	name  string
	write func(*bytes.Buffer, *Report) error
}{
	{"junit.xml", func(b *bytes.Buffer, r *Report) error { return WriteJUnit(b, r) }},
	{"summary.md", func(b *bytes.Buffer, r *Report) error { return WriteMarkdown(b, r) }},
	{"report.html", func(b *bytes.Buffer, r *Report) error { return WriteHTML(b, r) }},
}

// FileNames lists the files Render makes, report.json first.
func FileNames() []string {
	names := []string{"report.json"}
	for _, f := range reporters {
		names = append(names, f.name)
	}
	return names
}

// Render makes every report file in memory: report.json, junit.xml,
// summary.md and report.html, in that order.
func Render(r *Report) ([]File, error) {
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode report: %w", err)
	}
	out := []File{{Name: "report.json", Content: append(data, '\n')}}
	for _, f := range reporters {
		var buf bytes.Buffer
		if err := f.write(&buf, r); err != nil {
			return nil, fmt.Errorf("render %s: %w", f.name, err)
		}
		out = append(out, File{Name: f.name, Content: buf.Bytes()})
	}
	return out, nil
}

// WriteAll writes report.json and every other reporter's file into dir and
// returns their paths.
func WriteAll(dir string, r *Report) ([]string, error) {
	files, err := Render(r)
	if err != nil {
		return nil, err
	}
	return WriteFiles(dir, files)
}

// WriteFiles writes rendered files into dir and returns their paths.
func WriteFiles(dir string, files []File) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("write report: %w", err)
	}
	var paths []string
	for _, f := range files {
		path := filepath.Join(dir, f.Name)
		if err := writeFile(path, f.Content); err != nil {
			return paths, err
		}
		paths = append(paths, path)
	}
	return paths, nil
}

// writeFile replaces path through a temporary file, so a reader never sees
// half a report.
func writeFile(path string, data []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
