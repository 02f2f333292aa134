package pyenv

import "strings"

// ForgetLaunchers drops this process's cached resolutions of launchers
// under dir, as a new process starts without them.
func ForgetLaunchers(dir string) {
	launchers.Range(func(k, _ any) bool {
		if strings.HasPrefix(k.(string), dir) {
			launchers.Delete(k)
		}
		return true
	})
}
