package web

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"
)

// asset is one embedded file under assets/, with the hash that versions
// its URL.
type asset struct {
	body  []byte
	ctype string
	etag  string
	hash  string // first hex digits of the SHA-256, for ?v=
}

// loadAssets reads every file under assets/ once.
func loadAssets(fsys fs.FS) (map[string]*asset, error) {
	out := map[string]*asset{}
	err := fs.WalkDir(fsys, "assets", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		h := hex.EncodeToString(sum[:])
		ctype := mime.TypeByExtension(path.Ext(p))
		if ctype == "" {
			ctype = "application/octet-stream"
		}
		out[strings.TrimPrefix(p, "assets/")] = &asset{body: b, ctype: ctype, etag: `"` + h[:32] + `"`, hash: h[:12]}
		return nil
	})
	return out, err
}

// assetURL returns the URL of an asset with its content hash, so that
// browsers may cache it for good and still see a new build's file.
func assetURL(assets map[string]*asset, name string) string {
	a, ok := assets[name]
	if !ok {
		return "/static/" + name
	}
	return "/static/" + name + "?v=" + a.hash
}

// static serves the embedded assets: with a matching ?v= hash they are
// cached for a year as immutable, otherwise for five minutes; ETag answers
// revalidations with 304.
func (s *Server) static() http.Handler {
	modTime := time.Unix(0, 0)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, ok := s.assets[strings.TrimPrefix(r.URL.Path, "/static/")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		h := w.Header()
		if v := r.URL.Query().Get("v"); v != "" && v == a.hash {
			h.Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			h.Set("Cache-Control", "public, max-age=300")
		}
		h.Set("ETag", a.etag)
		h.Set("Content-Type", a.ctype)
		http.ServeContent(w, r, "", modTime, bytes.NewReader(a.body))
	})
}
