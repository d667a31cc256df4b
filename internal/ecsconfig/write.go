package ecsconfig

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// NewFileMode is the mode of an ecs.config this package creates. The file
// may hold registry credentials (ECS_ENGINE_AUTH_DATA) and only root
// (systemd, ecs-init) reads it, so it is not world-readable. An existing
// file keeps its mode and owner.
const NewFileMode fs.FileMode = 0o600

// DirMode is the mode of /etc/ecs when it has to be created.
const DirMode fs.FileMode = 0o755

// ReadFile reads the file at path; a missing file reads as empty, with
// exists false.
func ReadFile(path string) (data []byte, exists bool, err error) {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	if !fi.Mode().IsRegular() {
		return nil, true, fmt.Errorf("%s is not a regular file (%s); refusing to replace it", path, fi.Mode().Type())
	}
	if fi.Size() > MaxSize {
		return nil, true, fmt.Errorf("%s is %d bytes, more than the %d accepted", path, fi.Size(), MaxSize)
	}
	data, err = os.ReadFile(path)
	return data, true, err
}

// WriteFileAtomic replaces path with data so that a reader sees either the
// old or the new file, never a part: it writes a temporary file in the same
// directory, syncs it, renames it over path and syncs the directory. The
// new file keeps the old one's mode and owner, or gets NewFileMode.
func WriteFileAtomic(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, DirMode); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	mode, uid, gid := NewFileMode, -1, -1
	if fi, err := os.Lstat(path); err == nil {
		if !fi.Mode().IsRegular() {
			return fmt.Errorf("%s is not a regular file (%s); refusing to replace it", path, fi.Mode().Type())
		}
		mode = fi.Mode().Perm()
		if st, ok := fi.Sys().(*syscall.Stat_t); ok {
			uid, gid = int(st.Uid), int(st.Gid)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}

	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("create temporary file in %s: %w", dir, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err = tmp.Write(data); err != nil {
		return fmt.Errorf("write %s: %w", tmp.Name(), err)
	}
	if err = tmp.Chmod(mode); err != nil {
		return fmt.Errorf("chmod %s: %w", tmp.Name(), err)
	}
	if uid >= 0 && (uid != os.Geteuid() || gid != os.Getegid()) {
		if err = tmp.Chown(uid, gid); err != nil {
			return fmt.Errorf("keep the owner of %s: %w", path, err)
		}
	}
	if err = tmp.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", tmp.Name(), err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("close %s: %w", tmp.Name(), err)
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("rename into %s: %w", path, err)
	}
	return syncDir(dir)
}

// syncDir makes the rename durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}
