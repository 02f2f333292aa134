package pyenv_test

import (
	"archive/zip"
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/windsock/windsock/internal/pyenv"
)

// entry is one member of a test zip: a file, a directory (name ending in
// "/") or, with link set, a symbolic link to link.
type entry struct {
	name, body, link string
}

func (h *home) pluginsZip(entries ...entry) {
	h.t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		hdr := &zip.FileHeader{Name: e.name, Method: zip.Deflate}
		body := e.body
		switch {
		case e.link != "":
			hdr.SetMode(fs.ModeSymlink | 0o777)
			body = e.link
		case strings.HasSuffix(e.name, "/"):
			hdr.SetMode(fs.ModeDir | 0o755)
		default:
			hdr.SetMode(0o644)
		}
		w, err := zw.CreateHeader(hdr)
		if err != nil {
			h.t.Fatal(err)
		}
		w.Write([]byte(body))
	}
	if err := zw.Close(); err != nil {
		h.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(h.dir, "plugins.zip"), buf.Bytes(), 0o644); err != nil {
		h.t.Fatal(err)
	}
}

func (h *home) plugin(name string) (string, bool) {
	b, err := os.ReadFile(filepath.Join(h.dir, "plugins", name))
	return string(b), err == nil
}

func TestPluginsZipUnpackedAndReplacedWhenItChanges(t *testing.T) {
	t.Parallel()
	h := setup(t)
	h.pluginsZip(
		entry{name: "my_plugin/"},
		entry{name: "my_plugin/__init__.py", body: "NAME = 'one'\n"},
		entry{name: "operators/custom.py", body: "X = 1\n"},
		entry{name: "alias.py", link: "operators/custom.py"},
		entry{name: "__MACOSX/._custom.py", body: "junk"},
	)
	if !pyenv.Wanted(h.cfg) {
		t.Error("Wanted is false with a plugins.zip")
	}
	res := h.prepare()
	if body, ok := h.plugin("my_plugin/__init__.py"); !ok || body != "NAME = 'one'\n" {
		t.Errorf("my_plugin/__init__.py = %q, %v", body, ok)
	}
	if body, ok := h.plugin("alias.py"); !ok || body != "X = 1\n" {
		t.Errorf("alias.py (a link inside the folder) = %q, %v", body, ok)
	}
	if _, ok := h.plugin("__MACOSX/._custom.py"); ok {
		t.Error("macOS metadata unpacked")
	}
	if p := res.Status.Plugins; p == nil || !p.OK || p.Files != 2 {
		t.Errorf("Plugins = %+v", p)
	}
	// Plugins on sys.path import as the DAG processor will import them.
	out, err := execPython(res.PluginsFolder, "import my_plugin; print(my_plugin.NAME)")
	if err != nil || out != "one" {
		t.Errorf("import my_plugin: %q %v", out, err)
	}

	// Unchanged: not unpacked again.
	before := inode(t, filepath.Join(h.dir, "plugins", "my_plugin", "__init__.py"))
	h.prepare()
	if inode(t, filepath.Join(h.dir, "plugins", "my_plugin", "__init__.py")) != before {
		t.Error("an unchanged plugins.zip was unpacked again")
	}

	// Changed: the folder is the new zip's, files gone from it are gone.
	h.pluginsZip(entry{name: "my_plugin/__init__.py", body: "NAME = 'two'\n"})
	h.prepare()
	if body, _ := h.plugin("my_plugin/__init__.py"); body != "NAME = 'two'\n" {
		t.Errorf("after the change my_plugin/__init__.py = %q", body)
	}
	if _, ok := h.plugin("operators/custom.py"); ok {
		t.Error("a file no longer in the zip is still in the plugins folder")
	}
}

func TestPluginsZipRefusedWhenUnsafe(t *testing.T) {
	t.Parallel()
	big := strings.Repeat("x", 600)
	for _, tc := range []struct {
		name    string
		entries []entry
		want    string
	}{
		{"parent", []entry{{name: "../evil.py", body: "x"}}, "climbs out"},
		{"nested parent", []entry{{name: "ok/../../evil.py", body: "x"}}, "climbs out"},
		{"absolute", []entry{{name: "/tmp/evil.py", body: "x"}}, "absolute"},
		{"backslash parent", []entry{{name: `..\evil.py`, body: "x"}}, "climbs out"},
		{"absolute link", []entry{{name: "etc", link: "/etc"}}, "points outside"},
		{"climbing link", []entry{{name: "sub/up", link: "../../.."}}, "points outside"},
		{"write through a link", []entry{{name: "l", link: "sub"}, {name: "l/x", link: "y"}}, "lies below the link"},
		// Each link looks inside on its own; together they leave.
		{"link chain", []entry{{name: "a", link: "."}, {name: "b", link: "a/.."}}, "points outside"},
		{"duplicate", []entry{{name: "x.py", body: "1"}, {name: "x.py", body: "2"}}, "appears twice"},
		{"too big", []entry{{name: "a.py", body: big}, {name: "b.py", body: big}}, "more than 1000 bytes"},
		{"too many", []entry{{name: "1"}, {name: "2"}, {name: "3"}, {name: "4"}, {name: "5"}, {name: "6"}}, "more than the 5 allowed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := setup(t)
			h.cfg.Limits = pyenv.Limits{MaxBytes: 1000, MaxFiles: 5}
			// The folder holds an earlier zip's plugin, which must stay.
			h.pluginsZip(entry{name: "kept.py", body: "KEPT = True\n"})
			h.prepare()
			h.pluginsZip(tc.entries...)
			res := h.prepare()
			p := res.Status.Plugins
			if p == nil || p.OK || !strings.Contains(p.Error, tc.want) {
				t.Fatalf("Plugins = %+v, want a refusal saying %q", p, tc.want)
			}
			if len(res.Status.Problems()) != 1 {
				t.Errorf("Problems = %q", res.Status.Problems())
			}
			if _, ok := h.plugin("kept.py"); !ok {
				t.Error("a refused zip changed the plugins folder")
			}
			for _, outside := range []string{filepath.Join(h.dir, "evil.py"), filepath.Join(filepath.Dir(h.dir), "evil.py"), filepath.Join(h.dir, "plugins", "x")} {
				if _, err := os.Lstat(outside); err == nil {
					t.Errorf("%s was written", outside)
				}
			}
			leftovers, _ := filepath.Glob(filepath.Join(h.dir, ".plugins.new-*"))
			if len(leftovers) > 0 {
				t.Errorf("unpack left %v", leftovers)
			}
		})
	}
}

// Files a user put in the plugins folder by hand are never replaced by a
// zip's.
func TestPluginsZipLeavesAHandMadeFolderAlone(t *testing.T) {
	t.Parallel()
	h := setup(t)
	os.MkdirAll(filepath.Join(h.dir, "plugins"), 0o755)
	os.WriteFile(filepath.Join(h.dir, "plugins", "mine.py"), []byte("MINE = 1\n"), 0o644)
	h.pluginsZip(entry{name: "theirs.py", body: "x"})
	res := h.prepare()
	if p := res.Status.Plugins; p == nil || p.OK || !strings.Contains(p.Error, "do not come from a plugins.zip") {
		t.Errorf("Plugins = %+v", p)
	}
	if _, ok := h.plugin("mine.py"); !ok {
		t.Error("the user's plugin was removed")
	}
	// Without the zip the status clears and the folder stays the user's.
	os.Remove(filepath.Join(h.dir, "plugins.zip"))
	if res := h.prepare(); res.Status.Plugins != nil || !res.Status.Healthy() {
		t.Errorf("without plugins.zip: %+v", res.Status)
	}
}
