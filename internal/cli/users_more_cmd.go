package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/windsock/windsock/internal/app"
	"github.com/windsock/windsock/internal/auth"
	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

// findUser finds a user by --username or --email (exactly one given), as
// Airflow's _find_user does.
func findUser(ctx context.Context, q store.Queries, username, email string) (*windsock.User, error) {
	switch {
	case username == "" && email == "":
		return nil, windsock.Errorf(windsock.EINVALID, "Missing args: must supply one of --username or --email")
	case username != "" && email != "":
		return nil, windsock.Errorf(windsock.EINVALID, "Conflicting args: must supply either --username or --email, but not both")
	case username != "":
		u, err := q.UserGet(ctx, username)
		if windsock.ErrorCode(err) == windsock.ENOTFOUND {
			return nil, windsock.Errorf(windsock.ENOTFOUND, "User %q does not exist", username)
		}
		return u, err
	}
	u, err := userByEmail(ctx, q, email)
	if err == nil && u == nil {
		return nil, windsock.Errorf(windsock.ENOTFOUND, "User %q does not exist", email)
	}
	return u, err
}

// userByEmail returns the user with an email, nil when there is none.
func userByEmail(ctx context.Context, q store.Queries, email string) (*windsock.User, error) {
	users, _, err := q.UserList(ctx, nil)
	if err != nil {
		return nil, err
	}
	for _, u := range users {
		if strings.EqualFold(u.Email, email) {
			return u, nil
		}
	}
	return nil, nil
}

// newPassword is Airflow's _create_password: --use-random-password,
// --password, or asked twice on stdin.
func (r *runner) newPassword(password string, random bool) (string, error) {
	switch {
	case random:
		return auth.GeneratePassword(generatedPasswordLength)
	case password != "":
		return password, nil
	}
	in := bufio.NewReader(r.io.Stdin)
	fmt.Fprint(r.io.Stderr, "Password:")
	first, _ := in.ReadString('\n')
	fmt.Fprint(r.io.Stderr, "Repeat for confirmation:")
	second, _ := in.ReadString('\n')
	first, second = strings.TrimRight(first, "\r\n"), strings.TrimRight(second, "\r\n")
	if first != second {
		return "", windsock.Errorf(windsock.EINVALID, "Passwords did not match")
	}
	if first == "" {
		return "", windsock.Errorf(windsock.EINVALID, "the password must not be empty")
	}
	return first, nil
}

func (r *runner) usersResetPasswordCommand() *cobra.Command {
	var username, email, password string
	var random bool
	cmd := &cobra.Command{
		Use:   "reset-password",
		Short: "Reset a user's password",
		Args:  args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			return r.withEnv(ctx, func(env *app.Environment) error {
				u, err := findUser(ctx, env.Store, username, email)
				if err != nil {
					return err
				}
				pw, err := r.newPassword(password, random)
				if err != nil {
					return err
				}
				hash, err := auth.HashPassword(pw)
				if err != nil {
					return err
				}
				if err := env.Store.UserSetPassword(ctx, u.Username, hash); err != nil {
					return err
				}
				if random {
					fmt.Fprintf(r.io.Stdout, "Password: %s\n(shown once: it is not stored)\n", pw)
				}
				_, err = fmt.Fprintf(r.io.Stdout, "User %q password reset successfully\n", u.Username)
				return err
			})
		},
	}
	f := cmd.Flags()
	f.StringVarP(&username, "username", "u", "", "username of the user")
	f.StringVarP(&email, "email", "e", "", "email of the user")
	f.StringVarP(&password, "password", "p", "", "the new password (asked on stdin without it or --use-random-password)")
	f.BoolVar(&random, "use-random-password", false, "generate a random password and print it once")
	return cmd
}

// userFile is one user of `users export` and `users import`, with
// Airflow's field names.
type userFile struct {
	Email     string   `json:"email"`
	FirstName string   `json:"firstname"`
	ID        int64    `json:"id,omitempty"`
	LastName  string   `json:"lastname"`
	Roles     []string `json:"roles"`
	Username  string   `json:"username"`
}

func (r *runner) usersExportCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "export FILEPATH",
		Short: "Export all users to a JSON file (no passwords)",
		Args:  args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, a []string) error {
			ctx := cmd.Context()
			return r.withEnv(ctx, func(env *app.Environment) error {
				users, _, err := env.Store.UserList(ctx, nil)
				if err != nil {
					return err
				}
				out := make([]userFile, len(users))
				for i, u := range users {
					roles := u.Roles
					if roles == nil {
						roles = []string{}
					}
					out[i] = userFile{Email: u.Email, FirstName: u.FirstName, ID: u.ID, LastName: u.LastName, Roles: roles, Username: u.Username}
				}
				var b bytes.Buffer
				enc := json.NewEncoder(&b)
				enc.SetIndent("", "    ")
				if err := enc.Encode(out); err != nil {
					return err
				}
				if err := r.writeOutput(a[0], bytes.TrimRight(b.Bytes(), "\n")); err != nil {
					return err
				}
				_, err = fmt.Fprintf(r.io.Stdout, "%d users successfully exported to %s\n", len(out), a[0])
				return err
			})
		},
	}
}

func (r *runner) usersImportCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "import FILEPATH",
		Short: "Import users from a JSON file: new ones are created (without a password), existing ones (same email) updated",
		Args:  args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, a []string) error {
			if _, err := os.Stat(a[0]); err != nil && a[0] != "-" {
				return windsock.Errorf(windsock.ENOTFOUND, "File '%s' does not exist", a[0])
			}
			b, err := r.readInput(a[0])
			if err != nil {
				return err
			}
			var users []userFile
			if err := json.Unmarshal(b, &users); err != nil {
				return windsock.Errorf(windsock.EINVALID, "File '%s' is not valid JSON. Error: %v", a[0], err)
			}
			if err := validateUserFile(users); err != nil {
				return err
			}
			ctx := cmd.Context()
			return r.withEnv(ctx, func(env *app.Environment) error {
				var created, updated []string
				err := env.Store.InTx(ctx, func(q store.Queries) error {
					var err error
					created, updated, err = r.importUsers(ctx, q, users, env.Clock)
					return err
				})
				if err != nil {
					return err
				}
				if len(created) > 0 {
					fmt.Fprintf(r.io.Stdout, "Created the following users:\n\t\n\t%s\n", pythonList(created))
				}
				if len(updated) > 0 {
					fmt.Fprintf(r.io.Stdout, "Updated the following users:\n\t\n\t%s\n", pythonList(updated))
				}
				return nil
			})
		},
	}
}

// validateUserFile checks what Airflow's UserSchema requires.
func validateUserFile(users []userFile) error {
	var msg []string
	for i, u := range users {
		var missing []string
		for _, f := range []struct{ name, v string }{{"firstname", u.FirstName}, {"lastname", u.LastName}, {"username", u.Username}, {"email", u.Email}} {
			if strings.TrimSpace(f.v) == "" {
				missing = append(missing, f.name)
			}
		}
		if len(u.Roles) == 0 {
			missing = append(missing, "roles")
		}
		if len(missing) > 0 {
			msg = append(msg, fmt.Sprintf("[Item %d] missing or empty: %s", i, strings.Join(missing, ", ")))
		}
	}
	if len(msg) > 0 {
		return windsock.Errorf(windsock.EINVALID, "Input file didn't pass validation. See below: %s", strings.Join(msg, "; "))
	}
	return nil
}

// importUsers creates or updates each user, matched on email as Airflow
// does, and returns the emails created and updated.
func (r *runner) importUsers(ctx context.Context, q store.Queries, users []userFile, now func() time.Time) (created, updated []string, err error) {
	for _, u := range users {
		if err := auth.CheckRolesExist(ctx, q, u.Roles); err != nil {
			return nil, nil, err
		}
		existing, err := userByEmail(ctx, q, u.Email)
		if err != nil {
			return nil, nil, err
		}
		if existing == nil {
			fmt.Fprintf(r.io.Stdout, "Creating new user with email '%s'\n", u.Email)
			if _, err := auth.CreateUser(ctx, q, auth.NewUser{Username: u.Username, FirstName: u.FirstName,
				LastName: u.LastName, Email: u.Email, Roles: u.Roles}, now()); err != nil {
				return nil, nil, err
			}
			created = append(created, u.Email)
			continue
		}
		fmt.Fprintf(r.io.Stdout, "Found existing user with email '%s'\n", u.Email)
		if existing.Username != u.Username {
			return nil, nil, windsock.Errorf(windsock.EINVALID, "Changing the username is not allowed - please delete and recreate the user with email '%s'", u.Email)
		}
		if err := q.UserUpdate(ctx, u.Username, &store.UserUpdateParams{FirstName: &u.FirstName, LastName: &u.LastName, ChangedOn: now().UTC()}); err != nil {
			return nil, nil, err
		}
		for _, role := range u.Roles {
			if !slices.Contains(existing.Roles, role) {
				if err := q.UserAddRole(ctx, u.Username, role); err != nil {
					return nil, nil, err
				}
			}
		}
		for _, role := range existing.Roles {
			if !slices.Contains(u.Roles, role) {
				if err := q.UserRemoveRole(ctx, u.Username, role); err != nil {
					return nil, nil, err
				}
			}
		}
		updated = append(updated, u.Email)
	}
	return created, updated, nil
}
