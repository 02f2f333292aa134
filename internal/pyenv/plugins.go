package pyenv

import (
	"archive/zip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// Limits bound what plugins.zip may unpack to, against zip bombs.
type Limits struct {
	// MaxBytes is the most bytes all files may hold once unpacked.
	MaxBytes int64
	// MaxFiles is the most entries the archive may have.
	MaxFiles int
}

// DefaultLimits are 1 GiB in at most 100,000 entries, far above what a
// plugins folder holds.
var DefaultLimits = Limits{MaxBytes: 1 << 30, MaxFiles: 100_000}

func (l Limits) withDefaults() Limits {
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultLimits.MaxBytes
	}
	if l.MaxFiles <= 0 {
		l.MaxFiles = DefaultLimits.MaxFiles
	}
	return l
}

// pluginsMarker, in the plugins folder, names the plugins.zip it was
// unpacked from: only a folder so marked (or an empty one) is replaced,
// never files a user put there by hand.
const pluginsMarker = ".windsock-plugins-zip.json"

type pluginsMarkerData struct {
	SHA256 string `json:"sha256"`
}

func (p *preparer) pluginsMarked(sum string) bool {
	b, err := os.ReadFile(filepath.Join(p.cfg.PluginsFolder, pluginsMarker))
	if err != nil {
		return false
	}
	var m pluginsMarkerData
	return json.Unmarshal(b, &m) == nil && m.SHA256 == sum
}

// preparePlugins unpacks plugins.zip into the plugins folder when the zip
// changed since the last unpack. A refused archive is recorded and leaves
// the folder as it was.
func (p *preparer) preparePlugins(w want) {
	if w.zipSum == "" {
		// Without a zip the folder is the user's own: leave it.
		p.status.Plugins = nil
		return
	}
	if p.pluginsMarked(w.zipSum) {
		if p.status.Plugins == nil || p.status.Plugins.SHA256 != w.zipSum || !p.status.Plugins.OK {
			p.status.Plugins = &Plugins{At: p.cfg.Clock().UTC(), Zip: p.cfg.PluginsZip, SHA256: w.zipSum, OK: true}
		}
		return
	}
	if pl := p.status.Plugins; pl != nil && !pl.OK && pl.SHA256 == w.zipSum {
		return // refused already; it will not do better unchanged
	}
	rec := &Plugins{At: p.cfg.Clock().UTC(), Zip: p.cfg.PluginsZip, SHA256: w.zipSum}
	n, err := p.unpackPlugins(w.zipSum)
	if err != nil {
		rec.Error = err.Error()
		p.cfg.Logger.Warn("plugins.zip not unpacked; the plugins folder is left as it was", "zip", p.cfg.PluginsZip, "error", err)
	} else {
		rec.OK, rec.Files = true, n
		p.cfg.Logger.Info("plugins.zip unpacked", "zip", p.cfg.PluginsZip, "plugins_folder", p.cfg.PluginsFolder, "files", n)
	}
	p.status.Plugins = rec
}

// unpackPlugins unpacks the zip into a new directory beside the plugins
// folder, then puts it in the folder's place, so that Python never sees a
// half-unpacked folder and a refused archive changes nothing.
func (p *preparer) unpackPlugins(sum string) (int, error) {
	folder := p.cfg.PluginsFolder
	if err := replaceable(folder); err != nil {
		return 0, err
	}
	parent := filepath.Dir(folder)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return 0, err
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(folder)+".new-*")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(tmp)
	n, err := unzipSafely(p.cfg.PluginsZip, tmp, p.cfg.Limits)
	if err != nil {
		return 0, err
	}
	m, _ := json.Marshal(pluginsMarkerData{SHA256: sum})
	if err := os.WriteFile(filepath.Join(tmp, pluginsMarker), m, 0o644); err != nil {
		return 0, err
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return 0, err
	}
	old := tmp + ".old"
	if err := os.Rename(folder, old); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return 0, err
	}
	if err := os.Rename(tmp, folder); err != nil {
		os.Rename(old, folder)
		return 0, err
	}
	os.RemoveAll(old)
	return n, nil
}

// replaceable reports, as an error, a plugins folder that holds files not
// unpacked from a plugins.zip: the user's own, which are never deleted.
func replaceable(folder string) error {
	entries, err := os.ReadDir(folder)
	if errors.Is(err, fs.ErrNotExist) || (err == nil && len(entries) == 0) {
		return nil
	}
	if err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(folder, pluginsMarker)); err == nil {
		return nil
	}
	return fmt.Errorf("the plugins folder %s holds files that do not come from a plugins.zip; move them into the zip or away, or remove the zip", folder)
}

// unzipSafely unpacks archive into dir (empty) and returns how many files
// it wrote. It refuses, before leaving anything behind for the caller to
// use, entries with absolute paths or ".." components, symbolic links that
// resolve outside dir, duplicate entries, and archives beyond lim (counted
// on the bytes actually inflated, not on the sizes the archive claims).
func unzipSafely(archive, dir string, lim Limits) (int, error) {
	zr, err := zip.OpenReader(archive)
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", archive, err)
	}
	defer zr.Close()
	if len(zr.File) > lim.MaxFiles {
		return 0, fmt.Errorf("%s has %d entries, more than the %d allowed", archive, len(zr.File), lim.MaxFiles)
	}
	budget := lim.MaxBytes
	files := 0
	seen := map[string]bool{}
	type link struct{ name, target string }
	var links []link
	for _, f := range zr.File {
		name, err := entryName(f.Name)
		if err != nil {
			return 0, err
		}
		if name == "" || name == "__MACOSX" || strings.HasPrefix(name, "__MACOSX/") {
			continue // the root itself, or macOS Finder metadata
		}
		if seen[name] {
			return 0, fmt.Errorf("plugins.zip entry %q appears twice", f.Name)
		}
		seen[name] = true
		dst := filepath.Join(dir, filepath.FromSlash(name))
		mode := f.Mode()
		switch {
		case mode.IsDir():
			if err := os.MkdirAll(dst, 0o755); err != nil {
				return 0, err
			}
		case mode&fs.ModeSymlink != 0:
			target, err := readLinkTarget(f)
			if err != nil {
				return 0, err
			}
			links = append(links, link{name, target})
		case mode.IsRegular():
			if budget, err = writeEntry(f, dst, budget, lim.MaxBytes); err != nil {
				return 0, err
			}
			files++
		default:
			return 0, fmt.Errorf("plugins.zip entry %q is not a file, directory or link", f.Name)
		}
	}
	// Links come last, so no file above was written through one, and each
	// is checked once every link exists, where it really resolves.
	isLink := map[string]bool{}
	for _, l := range links {
		isLink[l.name] = true
	}
	for _, l := range links {
		// Lexically first: an absolute target, or one climbing above the
		// folder from where the link sits.
		if t := path.Join(path.Dir(l.name), l.target); path.IsAbs(l.target) || t == ".." || strings.HasPrefix(t, "../") {
			return 0, fmt.Errorf("plugins.zip link %q points outside the plugins folder (%s)", l.name, l.target)
		}
		// Nothing is created through a link: a link inside another
		// link's path could land anywhere that one points.
		for d := path.Dir(l.name); d != "."; d = path.Dir(d) {
			if isLink[d] {
				return 0, fmt.Errorf("plugins.zip link %q lies below the link %q", l.name, d)
			}
		}
		dst := filepath.Join(dir, filepath.FromSlash(l.name))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return 0, err
		}
		if err := os.Symlink(l.target, dst); err != nil {
			return 0, fmt.Errorf("plugins.zip link %q: %w", l.name, err)
		}
	}
	root, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return 0, err
	}
	for _, l := range links {
		real, err := filepath.EvalSymlinks(filepath.Join(dir, filepath.FromSlash(l.name)))
		if err != nil || !within(root, real) {
			return 0, fmt.Errorf("plugins.zip link %q points outside the plugins folder (%s)", l.name, l.target)
		}
	}
	return files, nil
}

// entryName returns a zip entry's name cleaned, "" for the root, or an
// error for names that would land outside the folder.
func entryName(raw string) (string, error) {
	n := strings.ReplaceAll(raw, "\\", "/")
	if strings.HasPrefix(n, "/") || (len(n) > 1 && n[1] == ':') || strings.ContainsRune(n, 0) {
		return "", fmt.Errorf("plugins.zip entry %q has an absolute path", raw)
	}
	for _, part := range strings.Split(n, "/") {
		if part == ".." {
			return "", fmt.Errorf("plugins.zip entry %q climbs out of the plugins folder", raw)
		}
	}
	n = path.Clean(n)
	if n == "." {
		return "", nil
	}
	return n, nil
}

// readLinkTarget reads a symbolic link entry, whose content is its target.
func readLinkTarget(f *zip.File) (string, error) {
	rc, err := f.Open()
	if err != nil {
		return "", err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, 4097))
	if err != nil {
		return "", fmt.Errorf("plugins.zip link %q: %w", f.Name, err)
	}
	if len(b) > 4096 || len(b) == 0 {
		return "", fmt.Errorf("plugins.zip link %q has a bad target", f.Name)
	}
	return string(b), nil
}

// writeEntry inflates one file to dst, spending at most budget bytes, and
// returns what is left of the budget.
func writeEntry(f *zip.File, dst string, budget, max int64) (int64, error) {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return 0, err
	}
	rc, err := f.Open()
	if err != nil {
		return 0, fmt.Errorf("plugins.zip entry %q: %w", f.Name, err)
	}
	defer rc.Close()
	perm := fs.FileMode(0o644)
	if f.Mode().Perm()&0o111 != 0 {
		perm = 0o755
	}
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return 0, fmt.Errorf("plugins.zip entry %q: %w", f.Name, err)
	}
	n, err := io.Copy(out, io.LimitReader(rc, budget+1))
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return 0, fmt.Errorf("plugins.zip entry %q: %w", f.Name, err)
	}
	if n > budget {
		return 0, fmt.Errorf("plugins.zip unpacks to more than %d bytes", max)
	}
	return budget - n, nil
}

// within reports whether p is root or below it.
func within(root, p string) bool {
	rel, err := filepath.Rel(root, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}
