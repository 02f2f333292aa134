package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/windsock/windsock/internal/windsock"
)

// pager is the paging of a list page: 1-based page numbers, links that
// keep the other query parameters.
type pager struct {
	Page     int
	PageSize int
	Total    int
	Pages    int
	First    int // 1-based index of the first row shown, 0 when none
	Last     int
	PrevURL  string
	NextURL  string
}

// pageParam reads ?page= (1 when absent); EINVALID for anything but a
// positive integer.
func pageParam(r *http.Request) (int, error) {
	raw := r.URL.Query().Get("page")
	if raw == "" {
		return 1, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < 1 || n > 1_000_000 {
		return 0, windsock.Errorf(windsock.EINVALID, "page: expected a positive integer, got %q", raw)
	}
	return n, nil
}

// newPager returns the paging of a list with total rows shown size at a
// time, page (1-based) being shown.
func newPager(r *http.Request, page, size, total int) pager {
	p := pager{Page: page, PageSize: size, Total: total, Pages: (total + size - 1) / size}
	if total > 0 && (page-1)*size < total {
		p.First = (page-1)*size + 1
		p.Last = min(page*size, total)
	}
	link := func(n int) string {
		q := r.URL.Query()
		q.Set("page", strconv.Itoa(n))
		return r.URL.Path + "?" + q.Encode()
	}
	if page > 1 {
		p.PrevURL = link(min(page-1, max(p.Pages, 1)))
	}
	if page < p.Pages {
		p.NextURL = link(page + 1)
	}
	return p
}

// queryList reads a repeated or comma-separated query parameter, without
// empty items.
func queryList(q url.Values, name string) []string {
	var out []string
	for _, v := range q[name] {
		for _, s := range strings.Split(v, ",") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
	}
	return out
}

// likeLiteral escapes the wildcards of a LIKE pattern so that a search
// matches the text typed.
func likeLiteral(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(s)
}
