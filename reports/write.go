package reports

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
)

// Files are the reporters WriteAll writes, by file name.
var files = []struct {
	name  string
	write func(*bytes.Buffer, *Report) error
}{
	{"junit.xml", func(b *bytes.Buffer, r *Report) error { return WriteJUnit(b, r) }},
	{"summary.md", func(b *bytes.Buffer, r *Report) error { return WriteMarkdown(b, r) }},
	{"report.html", func(b *bytes.Buffer, r *Report) error { return WriteHTML(b, r) }},
}

// WriteAll writes report.json and every other reporter's file into dir and
// returns their paths.
func WriteAll(dir string, r *Report) ([]string, error) {
	p, err := WriteJSON(dir, r)
	if err != nil {
		return nil, err
	}
	paths := []string{p}
	for _, f := range files {
		var buf bytes.Buffer
		if err := f.write(&buf, r); err != nil {
			return paths, err
		}
		path := filepath.Join(dir, f.name)
		if err := writeFile(path, buf.Bytes()); err != nil {
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
