package scenarios

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"
)

//go:embed builtin/*.yaml
var builtinFS embed.FS

// ErrUnknownBuiltin is returned by Builtin for a name no built-in scenario has.
var ErrUnknownBuiltin = errors.New("no built-in scenario of that name")

// BuiltinNames lists the embedded scenarios, sorted.
func BuiltinNames() []string {
	entries, _ := fs.ReadDir(builtinFS, "builtin")
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, strings.TrimSuffix(e.Name(), ".yaml"))
	}
	slices.Sort(names)
	return names
}

// Builtin loads an embedded scenario by name.
func Builtin(name string) (*Scenario, error) {
	data, err := builtinFS.ReadFile(path.Join("builtin", name+".yaml"))
	if err != nil {
		return nil, fmt.Errorf("%w: %q (built-in: %s)", ErrUnknownBuiltin, name, strings.Join(BuiltinNames(), ", "))
	}
	return Parse("builtin:"+name, data)
}

// Resolve loads a scenario named by a file path or, when no such file exists
// and the argument has no path separator or extension, by built-in name.
func Resolve(arg string) (*Scenario, error) {
	if _, err := os.Stat(arg); err == nil || strings.ContainsAny(arg, `/\`) || strings.HasSuffix(arg, ".yaml") || strings.HasSuffix(arg, ".yml") {
		return Load(arg)
	}
	return Builtin(strings.TrimPrefix(arg, "builtin:"))
}
