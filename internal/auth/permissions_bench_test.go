package auth

import (
	"fmt"
	"testing"

	"github.com/windsock/windsock/internal/windsock"
)

// BenchmarkCheckPermission checks what a role editor's save of 10,000
// permissions checks: per-DAG ones and every global resource.
func BenchmarkCheckPermission(b *testing.B) {
	var perms []windsock.Permission
	for i := range 5000 {
		perms = append(perms, windsock.Permission{Action: ActionEdit, Resource: DAGResource(fmt.Sprint("dag_", i))})
	}
	for len(perms) < 10_000 {
		for _, res := range Resources() {
			perms = append(perms, windsock.Permission{Action: ActionMenuAccess, Resource: res})
		}
	}
	perms = perms[:10_000]
	for b.Loop() {
		for _, p := range perms {
			if err := CheckPermission(p); err != nil {
				b.Fatal(err)
			}
		}
	}
}
