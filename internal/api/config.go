package api

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/windsock/windsock/internal/config"
	"github.com/windsock/windsock/internal/windsock"
)

type configOption struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

type configSection struct {
	Name    string         `json:"name"`
	Options []configOption `json:"options"`
}

type configBody struct {
	Sections []configSection `json:"sections"`
}

// getConfig is Airflow's get_config: every option (or one section's) as
// JSON or text/plain, sensitive values masked, only when
// webserver.expose_config is on.
func (s *Server) getConfig(w http.ResponseWriter, r *http.Request) error {
	mediaType, err := negotiate(r, "text/plain", "application/json")
	if err != nil {
		return err
	}
	if !s.cfg.Webserver.ExposeConfig {
		return configHidden()
	}
	section := strings.ToLower(r.URL.Query().Get("section"))
	var body configBody
	for _, o := range s.cfg.Options() {
		if section != "" && o.Section != section {
			continue
		}
		body.add(o)
	}
	if section != "" && len(body.Sections) == 0 {
		return windsock.Errorf(windsock.ENOTFOUND, "section=%s not found.", r.URL.Query().Get("section"))
	}
	return writeConfig(w, mediaType, body)
}

// getConfigValue is Airflow's get_value: one option.
func (s *Server) getConfigValue(w http.ResponseWriter, r *http.Request) error {
	mediaType, err := negotiate(r, "text/plain", "application/json")
	if err != nil {
		return err
	}
	if !s.cfg.Webserver.ExposeConfig {
		return configHidden()
	}
	o, err := s.cfg.Get(r.PathValue("section"), r.PathValue("option"))
	if err != nil {
		return windsock.Errorf(windsock.ENOTFOUND, "The option [%s/%s] is not found in config.", r.PathValue("section"), r.PathValue("option"))
	}
	var body configBody
	body.add(o)
	return writeConfig(w, mediaType, body)
}

func (b *configBody) add(o config.Option) {
	if n := len(b.Sections); n == 0 || b.Sections[n-1].Name != o.Section {
		b.Sections = append(b.Sections, configSection{Name: o.Section, Options: []configOption{}})
	}
	last := &b.Sections[len(b.Sections)-1]
	last.Options = append(last.Options, configOption{Key: o.Name, Value: o.Display()})
}

func configHidden() error {
	return windsock.Errorf(windsock.EFORBIDDEN,
		"Your Windsock administrator chose not to expose the configuration, most likely for security reasons.")
}

// writeConfig answers with the configuration as JSON or in airflow.cfg's
// text form.
func writeConfig(w http.ResponseWriter, mediaType string, body configBody) error {
	if mediaType == "application/json" {
		return writeJSON(w, http.StatusOK, body)
	}
	var sb strings.Builder
	for i, sec := range body.Sections {
		if i > 0 {
			sb.WriteString("\n")
		}
		sb.WriteString("[" + sec.Name + "]\n")
		for _, o := range sec.Options {
			sb.WriteString(o.Key + " = " + o.Value + "\n")
		}
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(sb.String()))
	return nil
}

// negotiate picks the offered media type the Accept header prefers (ties
// go to the earlier offer); without an Accept header, JSON. None
// acceptable is a 406.
func negotiate(r *http.Request, offers ...string) (string, error) {
	accept := r.Header.Values("Accept")
	if len(accept) == 0 {
		return "application/json", nil
	}
	best, bestQ := "", 0.0
	for _, offer := range offers {
		if q := acceptQuality(accept, offer); q > bestQ {
			best, bestQ = offer, q
		}
	}
	if best == "" {
		return "", &httpError{status: http.StatusNotAcceptable,
			detail: "none of the requested media types is available; offered: " + strings.Join(offers, ", ")}
	}
	return best, nil
}

// acceptQuality returns the q value the Accept header gives mediaType,
// from its most specific matching range.
func acceptQuality(accept []string, mediaType string) float64 {
	typ, _, _ := strings.Cut(mediaType, "/")
	q, specificity := 0.0, -1
	for _, h := range accept {
		for _, item := range strings.Split(h, ",") {
			rangeStr, params, _ := strings.Cut(strings.TrimSpace(item), ";")
			rangeStr = strings.ToLower(strings.TrimSpace(rangeStr))
			spec := -1
			switch {
			case rangeStr == mediaType:
				spec = 2
			case rangeStr == typ+"/*":
				spec = 1
			case rangeStr == "*/*":
				spec = 0
			}
			if spec <= specificity {
				continue
			}
			specificity, q = spec, 1
			for _, p := range strings.Split(params, ";") {
				if v, ok := strings.CutPrefix(strings.TrimSpace(p), "q="); ok {
					if f, err := strconv.ParseFloat(v, 64); err == nil {
						q = f
					}
				}
			}
		}
	}
	return q
}
