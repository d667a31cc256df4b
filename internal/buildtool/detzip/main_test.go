package main

import (
	"archive/zip"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestTheSameInputsGiveTheSameBytesWithFixedTimesAndModes(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "bootstrap")
	if err := os.WriteFile(bin, bytes.Repeat([]byte("\x7fELF binary "), 1000), 0o700); err != nil {
		t.Fatal(err)
	}
	a, b := filepath.Join(dir, "a.zip"), filepath.Join(dir, "b.zip")
	if err := write(a, []string{"bootstrap"}, []string{"bootstrap=" + bin}); err != nil {
		t.Fatal(err)
	}
	// A later mtime and another mode on the input must not change the archive.
	later := time.Now().Add(time.Hour)
	if err := os.Chtimes(bin, later, later); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := write(b, []string{"bootstrap"}, []string{"bootstrap=" + bin}); err != nil {
		t.Fatal(err)
	}
	ab, _ := os.ReadFile(a)
	bb, _ := os.ReadFile(b)
	if !bytes.Equal(ab, bb) {
		t.Fatal("two builds of the same input differ")
	}
	zr, err := zip.OpenReader(a)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	if len(zr.File) != 1 || zr.File[0].Name != "bootstrap" {
		t.Fatalf("entries = %v", zr.File)
	}
	f := zr.File[0]
	if f.Mode() != 0o755 {
		t.Errorf("bootstrap mode = %v, want 0755", f.Mode())
	}
	if !f.Modified.Equal(modTime) {
		t.Errorf("modified = %v, want %v", f.Modified, modTime)
	}
	rc, _ := f.Open()
	got, _ := io.ReadAll(rc)
	rc.Close()
	want, _ := os.ReadFile(bin)
	if !bytes.Equal(got, want) {
		t.Error("content differs after a round trip")
	}
}

func TestAMalformedEntryIsRefused(t *testing.T) {
	if err := write(filepath.Join(t.TempDir(), "x.zip"), nil, []string{"no-equals-sign"}); err == nil {
		t.Fatal("want an error for an entry without NAME=PATH")
	}
}
