package windsock

import "time"

// Permission is an action on a resource, as Airflow's FAB security model
// names them: ("can_read", "DAGs"), ("can_edit", "DAG:etl").
type Permission struct {
	Action   string
	Resource string
}

// Role is a row of ab_role with the permissions granted to it.
type Role struct {
	ID          int64
	Name        string
	Permissions []Permission
}

// APIToken is a row of api_token: a bearer credential a user created. Only
// the SHA-256 of the token is stored; the token itself is shown once.
type APIToken struct {
	ID     int64
	UserID int64
	// Username is the owner's username (read only, joined from ab_user).
	Username   string
	Name       string
	TokenHash  string
	CreatedAt  time.Time
	ExpiresAt  *time.Time
	LastUsedAt *time.Time
}

// Session is a row of user_session: a signed-in browser. The cookie holds
// a random id; only its SHA-256 is stored.
type Session struct {
	IDHash    string
	UserID    int64
	CreatedAt time.Time
	ExpiresAt time.Time
}
