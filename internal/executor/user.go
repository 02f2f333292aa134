package executor

import "os/user"

func unixName() string {
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return ""
}
