package pyrt

import (
	"context"
	"testing"
)

// BenchmarkChild measures one request end to end: fork a child of a warm
// server, pass it its fds, let it send a result, reap it.
func BenchmarkChild(b *testing.B) {
	r, err := New(context.Background(), Config{Python: "/usr/bin/python3", CacheDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer r.Stop()
	ctx := context.Background()
	s, err := r.server(ctx)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := r.do(ctx, s, map[string]any{"op": "eval", "code": `rpc.call("result", ok=1)`}, nil, nil); err != nil {
			b.Fatal(err)
		}
	}
}
