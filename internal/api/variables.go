package api

import (
	"cmp"
	"net/http"

	"github.com/windsock/windsock/internal/secrets"
	"github.com/windsock/windsock/internal/windsock"
)

// variableItem is Airflow's VariableCollectionItem: never the value.
type variableItem struct {
	Key         string  `json:"key"`
	Description *string `json:"description"`
}

// variableJSON is Airflow's Variable.
type variableJSON struct {
	Key         string  `json:"key"`
	Value       string  `json:"value"`
	Description *string `json:"description"`
}

// variableInput is a Variable in a request body; nil fields were absent
// (or null).
type variableInput struct {
	Key         *string `json:"key"`
	Value       *string `json:"value"`
	Description *string `json:"description"`
}

// maskedValue is what a sensitive value is shown as, as Airflow's secrets
// masker shows it.
const maskedValue = "***"

// variableOut shows a variable, its value masked when the key names a
// secret (password, token, api_key...).
func variableOut(key, value, description string) variableJSON {
	if secrets.IsSensitiveName(key) {
		value = maskedValue
	}
	return variableJSON{Key: key, Value: value, Description: metaNullable(description)}
}

var variableOrder = metaOrder[*windsock.Variable]{
	"id":  func(a, b *windsock.Variable) int { return cmp.Compare(a.ID, b.ID) },
	"key": func(a, b *windsock.Variable) int { return cmp.Compare(a.Key, b.Key) },
}

func variableNotFound() error {
	return windsock.Errorf(windsock.ENOTFOUND, "Variable does not exist")
}

// getVariables is Airflow's get_variables: keys and descriptions of the
// variables in the store (those set only in the environment are not
// listed, as in Airflow).
func (s *Server) getVariables(w http.ResponseWriter, r *http.Request) error {
	p, err := s.pageParams(r, variableOrder.fields())
	if err != nil {
		return err
	}
	rows, err := s.Store.VariableList(r.Context())
	if err != nil {
		return err
	}
	total := len(rows)
	out := []variableItem{}
	for _, v := range metaPage(rows, p, variableOrder, "id") {
		out = append(out, variableItem{Key: v.Key, Description: metaNullable(v.Description)})
	}
	return writeJSON(w, http.StatusOK, collection("variables", out, total))
}

// getVariable is Airflow's get_variable.
func (s *Server) getVariable(w http.ResponseWriter, r *http.Request) error {
	key := r.PathValue("variable_key")
	v, err := s.variables().Stored(r.Context(), key)
	if windsock.ErrorCode(err) == windsock.ENOTFOUND {
		return variableNotFound()
	}
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, variableOut(v.Key, v.Value, v.Description))
}

// postVariable is Airflow's post_variables: it sets the variable, whether
// or not it exists (Airflow's Variable.set).
func (s *Server) postVariable(w http.ResponseWriter, r *http.Request) error {
	var in variableInput
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if err := in.check(); err != nil {
		return err
	}
	desc := ""
	if in.Description != nil {
		desc = *in.Description
	}
	if err := s.variables().Set(r.Context(), *in.Key, *in.Value, desc); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, variableOut(*in.Key, *in.Value, desc))
}

// check applies Airflow's Variable schema: key and value are required.
func (in *variableInput) check() error {
	var missing []string
	if in.Key == nil {
		missing = append(missing, "key")
	}
	if in.Value == nil {
		missing = append(missing, "value")
	}
	if len(missing) > 0 {
		return windsock.Errorf(windsock.EINVALID, "Invalid Variable schema: missing required field(s) %s", metaPythonList(missing))
	}
	return metaCheckName("key", *in.Key, true)
}

// patchVariable is Airflow's patch_variable: the body is a whole Variable
// whose key must be the one in the path; update_mask limits the change to
// value and/or description.
func (s *Server) patchVariable(w http.ResponseWriter, r *http.Request) error {
	key := r.PathValue("variable_key")
	var in variableInput
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if err := in.check(); err != nil {
		return err
	}
	if *in.Key != key {
		return windsock.Errorf(windsock.EINVALID, "Invalid post body: key from request body doesn't match uri parameter")
	}
	mask, err := metaMaskedFields(r, func(f string) bool {
		return f == "key" || f == "value" || f == "description" && in.Description != nil
	}, "key")
	if err != nil {
		return err
	}
	cur, err := s.variables().Stored(r.Context(), key)
	if windsock.ErrorCode(err) == windsock.ENOTFOUND {
		return variableNotFound()
	}
	if err != nil {
		return err
	}
	value, desc := cur.Value, cur.Description
	if mask == nil {
		mask = []string{"value", "description"}
	}
	for _, f := range mask {
		switch {
		case f == "value":
			value = *in.Value
		case f == "description" && in.Description != nil:
			desc = *in.Description
		}
	}
	if err := s.variables().Set(r.Context(), key, value, desc); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, variableOut(key, value, desc))
}

// deleteVariable is Airflow's delete_variable.
func (s *Server) deleteVariable(w http.ResponseWriter, r *http.Request) error {
	err := s.variables().Delete(r.Context(), r.PathValue("variable_key"))
	if windsock.ErrorCode(err) == windsock.ENOTFOUND {
		return variableNotFound()
	}
	if err != nil {
		return err
	}
	return noContent(w)
}

// variables returns the variable service; a server built without one
// (tests, tools) reads and writes the store without encryption.
func (s *Server) variables() *secrets.Variables {
	if s.Variables != nil {
		return s.Variables
	}
	return &secrets.Variables{Store: s.Store}
}
