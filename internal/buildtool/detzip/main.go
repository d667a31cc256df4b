// Command detzip writes a deterministic zip archive: entries in the order
// given, a fixed modification time, fixed modes and no host metadata, so the
// same inputs always give the same bytes (and hash). No zip binary needed.
//
//	go run ./internal/buildtool/detzip -o dist/lambda.zip bootstrap=bin/lambda/bootstrap
//
// Each argument is NAME=PATH; NAME is the path inside the archive. Entries
// named "bootstrap" or given with -x are executable (0755), others 0644.
package main

import (
	"archive/zip"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// modTime is the time every entry carries (the zip epoch is 1980).
var modTime = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)

func main() {
	out := flag.String("o", "", "archive to write")
	exec := flag.String("x", "bootstrap", "comma-separated entry names to mark executable")
	flag.Parse()
	if *out == "" || flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: detzip -o OUT.zip NAME=PATH...")
		os.Exit(2)
	}
	if err := write(*out, strings.Split(*exec, ","), flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "detzip:", err)
		os.Exit(1)
	}
}

// write builds the archive in a temporary file and renames it into place.
func write(out string, executables, entries []string) error {
	tmp, err := os.CreateTemp(filepath.Dir(out), ".detzip-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := archive(tmp, executables, entries); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), out)
}

func archive(w io.Writer, executables, entries []string) error {
	zw := zip.NewWriter(w)
	for _, e := range entries {
		name, path, ok := strings.Cut(e, "=")
		if !ok || name == "" || path == "" {
			return fmt.Errorf("entry %q is not NAME=PATH", e)
		}
		mode := os.FileMode(0o644)
		for _, x := range executables {
			if x == name {
				mode = 0o755
			}
		}
		hdr := &zip.FileHeader{Name: name, Method: zip.Deflate, Modified: modTime}
		hdr.SetMode(mode)
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		dst, err := zw.CreateHeader(hdr)
		if err == nil {
			_, err = io.Copy(dst, f)
		}
		f.Close()
		if err != nil {
			return fmt.Errorf("add %s: %w", name, err)
		}
	}
	return zw.Close()
}
