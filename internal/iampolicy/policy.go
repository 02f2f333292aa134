// Package iampolicy evaluates IAM identity policy documents the way IAM
// does for one identity: a request is allowed when some statement allows
// it and none denies it (an explicit Deny always wins); Action and Resource
// match with the * and ? wildcards, actions case-insensitively.
package iampolicy

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Decision is the outcome of an evaluation.
type Decision int

// Decisions, as IAM reports them.
const (
	// ImplicitDeny: no statement allows the request.
	ImplicitDeny Decision = iota
	// Allow: a statement allows it and none denies it.
	Allow
	// ExplicitDeny: a Deny statement matches.
	ExplicitDeny
)

// Policy is a parsed policy document.
type Policy struct {
	Version   string
	Statement []Statement
}

// Statement is one statement of a policy.
type Statement struct {
	Sid         string
	Effect      string
	Action      []string
	NotAction   []string
	Resource    []string
	NotResource []string
}

// document is the JSON form, where Statement and the lists may each be a
// single value or an array.
type document struct {
	Version   string          `json:"Version"`
	Statement json.RawMessage `json:"Statement"`
}

type statementJSON struct {
	Sid         string          `json:"Sid"`
	Effect      string          `json:"Effect"`
	Action      stringOrList    `json:"Action"`
	NotAction   stringOrList    `json:"NotAction"`
	Resource    stringOrList    `json:"Resource"`
	NotResource stringOrList    `json:"NotResource"`
	Principal   json.RawMessage `json:"Principal"`
	Condition   json.RawMessage `json:"Condition"`
}

type stringOrList []string

func (s *stringOrList) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*s = []string{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return errors.New("must be a string or a list of strings")
	}
	*s = many
	return nil
}

// Parse reads a policy document and checks what IAM checks: each statement
// has Effect Allow or Deny, Action or NotAction, Resource or NotResource.
// Conditions are refused rather than ignored, since ignoring one would
// grant more than the author meant.
func Parse(data []byte) (*Policy, error) {
	var doc document
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("parse policy: %w", err)
	}
	var raw []statementJSON
	if len(doc.Statement) == 0 {
		return nil, errors.New("parse policy: Statement is required")
	}
	if doc.Statement[0] == '{' {
		var one statementJSON
		if err := json.Unmarshal(doc.Statement, &one); err != nil {
			return nil, fmt.Errorf("parse policy: %w", err)
		}
		raw = []statementJSON{one}
	} else if err := json.Unmarshal(doc.Statement, &raw); err != nil {
		return nil, fmt.Errorf("parse policy: %w", err)
	}
	p := &Policy{Version: doc.Version}
	for i, s := range raw {
		where := fmt.Sprintf("parse policy: statement %d", i+1)
		if s.Sid != "" {
			where += " (" + s.Sid + ")"
		}
		switch {
		case s.Effect != "Allow" && s.Effect != "Deny":
			return nil, fmt.Errorf("%s: Effect must be Allow or Deny, not %q", where, s.Effect)
		case (len(s.Action) == 0) == (len(s.NotAction) == 0):
			return nil, fmt.Errorf("%s: exactly one of Action and NotAction is required", where)
		case (len(s.Resource) == 0) == (len(s.NotResource) == 0):
			return nil, fmt.Errorf("%s: exactly one of Resource and NotResource is required", where)
		case len(s.Condition) > 0 && string(s.Condition) != "null":
			return nil, fmt.Errorf("%s: Condition is not supported", where)
		case len(s.Principal) > 0 && string(s.Principal) != "null":
			return nil, fmt.Errorf("%s: Principal does not belong in an identity policy", where)
		}
		p.Statement = append(p.Statement, Statement{Sid: s.Sid, Effect: s.Effect, Action: s.Action,
			NotAction: s.NotAction, Resource: s.Resource, NotResource: s.NotResource})
	}
	return p, nil
}

// Evaluate decides whether action (e.g. "airflow:GetEnvironment") on
// resource (an ARN) is allowed. A nil policy allows everything: a key
// created without one has full access.
func (p *Policy) Evaluate(action, resource string) Decision {
	if p == nil {
		return Allow
	}
	d := ImplicitDeny
	for _, s := range p.Statement {
		if !s.matches(action, resource) {
			continue
		}
		if s.Effect == "Deny" {
			return ExplicitDeny
		}
		d = Allow
	}
	return d
}

func (s Statement) matches(action, resource string) bool {
	actionOK := anyMatch(s.Action, action, true)
	if len(s.NotAction) > 0 {
		actionOK = !anyMatch(s.NotAction, action, true)
	}
	resourceOK := anyMatch(s.Resource, resource, false)
	if len(s.NotResource) > 0 {
		resourceOK = !anyMatch(s.NotResource, resource, false)
	}
	return actionOK && resourceOK
}

func anyMatch(patterns []string, value string, foldCase bool) bool {
	for _, p := range patterns {
		if foldCase {
			if Match(strings.ToLower(p), strings.ToLower(value)) {
				return true
			}
		} else if Match(p, value) {
			return true
		}
	}
	return false
}

// Match reports whether value matches pattern, where * matches any run of
// characters (including none and including ':' and '/') and ? exactly one.
func Match(pattern, value string) bool {
	// Iterative glob with one backtrack point: linear in practice, no
	// recursion to blow up on many stars.
	p, v := 0, 0
	star, mark := -1, 0
	for v < len(value) {
		switch {
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == value[v]):
			p++
			v++
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, v
			p++
		case star >= 0:
			p = star + 1
			mark++
			v = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}
