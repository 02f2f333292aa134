package storetest

import (
	"testing"

	"github.com/windsock/windsock/internal/windsock"
)

func testVariable(t *testing.T, open OpenFunc) {
	t.Run("CRUD", func(t *testing.T) {
		t.Parallel()
		ctx, st := setup(t, open)
		v := &windsock.Variable{Key: "env", Val: "prod", Description: "where we run"}
		mustNo(t, st.VariableSet(ctx, v))
		if v.ID == 0 {
			t.Fatal("VariableSet did not set ID")
		}
		got, err := st.VariableGet(ctx, "env")
		mustNo(t, err)
		if *got != *v {
			t.Fatalf("VariableGet = %+v, want %+v", got, v)
		}

		upd := &windsock.Variable{Key: "env", Val: "gAAAA-cipher", IsEncrypted: true}
		mustNo(t, st.VariableSet(ctx, upd))
		got, err = st.VariableGet(ctx, "env")
		mustNo(t, err)
		if got.ID != v.ID || got.Val != upd.Val || !got.IsEncrypted || got.Description != "" {
			t.Fatalf("after replace VariableGet = %+v, want %+v with id %d", got, upd, v.ID)
		}

		mustNo(t, st.VariableSet(ctx, &windsock.Variable{Key: "a_first", Val: ""}))
		list, err := st.VariableList(ctx)
		mustNo(t, err)
		if len(list) != 2 || list[0].Key != "a_first" || list[1].Key != "env" {
			t.Fatalf("VariableList = %+v, want a_first, env", list)
		}

		mustNo(t, st.VariableDelete(ctx, "env"))
		_, err = st.VariableGet(ctx, "env")
		wantCode(t, err, windsock.ENOTFOUND)
		wantCode(t, st.VariableDelete(ctx, "env"), windsock.ENOTFOUND)
	})
}

func testConnection(t *testing.T, open OpenFunc) {
	t.Run("CRUD", func(t *testing.T) {
		t.Parallel()
		ctx, st := setup(t, open)
		c := &windsock.Connection{
			ConnID: "warehouse", ConnType: "postgres", Description: "dwh", Host: "db.internal",
			Schema: "analytics", Login: "etl", Password: "cipher", Port: 5432,
			Extra: `{"sslmode":"require"}`, IsEncrypted: true, IsExtraEncrypted: false,
		}
		mustNo(t, st.ConnectionInsert(ctx, c))
		if c.ID == 0 {
			t.Fatal("ConnectionInsert did not set ID")
		}
		got, err := st.ConnectionGet(ctx, "warehouse")
		mustNo(t, err)
		if *got != *c {
			t.Fatalf("ConnectionGet = %+v, want %+v", got, c)
		}

		dup := &windsock.Connection{ConnID: "warehouse", ConnType: "http"}
		wantCode(t, st.ConnectionInsert(ctx, dup), windsock.ECONFLICT)

		upd := &windsock.Connection{ConnID: "warehouse", ConnType: "http", Host: "api", IsExtraEncrypted: true}
		mustNo(t, st.ConnectionUpdate(ctx, upd))
		got, err = st.ConnectionGet(ctx, "warehouse")
		mustNo(t, err)
		upd.ID = c.ID
		if *got != *upd {
			t.Fatalf("after update ConnectionGet = %+v, want %+v", got, upd)
		}
		wantCode(t, st.ConnectionUpdate(ctx, &windsock.Connection{ConnID: "missing", ConnType: "http"}), windsock.ENOTFOUND)

		mustNo(t, st.ConnectionInsert(ctx, &windsock.Connection{ConnID: "aws_default", ConnType: "aws"}))
		list, err := st.ConnectionList(ctx)
		mustNo(t, err)
		if len(list) != 2 || list[0].ConnID != "aws_default" || list[1].ConnID != "warehouse" {
			t.Fatalf("ConnectionList = %+v, want aws_default, warehouse", list)
		}

		mustNo(t, st.ConnectionDelete(ctx, "warehouse"))
		_, err = st.ConnectionGet(ctx, "warehouse")
		wantCode(t, err, windsock.ENOTFOUND)
		wantCode(t, st.ConnectionDelete(ctx, "warehouse"), windsock.ENOTFOUND)
	})
}

func testPool(t *testing.T, open OpenFunc) {
	t.Run("CRUD", func(t *testing.T) {
		t.Parallel()
		ctx, st := setup(t, open)
		list, err := st.PoolList(ctx)
		mustNo(t, err)
		if len(list) != 0 {
			t.Fatalf("a fresh store has %d pools; the default pool is the application's to create", len(list))
		}

		p := &windsock.Pool{Pool: windsock.DefaultPoolName, Slots: 128, Description: "Default pool"}
		mustNo(t, st.PoolUpsert(ctx, p))
		if p.ID == 0 {
			t.Fatal("PoolUpsert did not set ID")
		}
		got, err := st.PoolGet(ctx, windsock.DefaultPoolName)
		mustNo(t, err)
		if *got != *p {
			t.Fatalf("PoolGet = %+v, want %+v", got, p)
		}

		upd := &windsock.Pool{Pool: windsock.DefaultPoolName, Slots: 4, IncludeDeferred: true}
		mustNo(t, st.PoolUpsert(ctx, upd))
		got, err = st.PoolGet(ctx, windsock.DefaultPoolName)
		mustNo(t, err)
		if *got != *upd || got.ID != p.ID {
			t.Fatalf("after replace PoolGet = %+v, want %+v with id %d", got, upd, p.ID)
		}

		mustNo(t, st.PoolUpsert(ctx, &windsock.Pool{Pool: "batch", Slots: 0}))
		list, err = st.PoolList(ctx)
		mustNo(t, err)
		if len(list) != 2 || list[0].Pool != "batch" || list[1].Pool != windsock.DefaultPoolName {
			t.Fatalf("PoolList = %+v, want batch, default_pool", list)
		}

		mustNo(t, st.PoolDelete(ctx, "batch"))
		_, err = st.PoolGet(ctx, "batch")
		wantCode(t, err, windsock.ENOTFOUND)
		wantCode(t, st.PoolDelete(ctx, "batch"), windsock.ENOTFOUND)
	})
}
