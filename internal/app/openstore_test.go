package app

import (
	"path/filepath"
	"testing"

	"github.com/windsock/windsock/internal/config"
	"github.com/windsock/windsock/internal/store/storetest"
	"github.com/windsock/windsock/internal/windsock"
)

func TestOpenStoreSQLite(t *testing.T) {
	t.Parallel()
	cfg := config.Default(t.TempDir())
	cfg.Database.SQLAlchemyConn = "sqlite:///" + filepath.Join(t.TempDir(), "airflow.db")
	st, err := OpenStore(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Ping(t.Context()); err != nil {
		t.Fatal(err)
	}
}

func TestOpenStorePostgres(t *testing.T) {
	t.Parallel()
	cfg := config.Default(t.TempDir())
	cfg.Database.SQLAlchemyConn = storetest.PostgresURL(t)
	st, err := OpenStore(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Ping(t.Context()); err != nil {
		t.Fatal(err)
	}
}

func TestOpenStoreRejectsOtherDatabases(t *testing.T) {
	t.Parallel()
	cfg := config.Default(t.TempDir())
	cfg.Database.SQLAlchemyConn = "mysql+mysqldb://airflow:s3cret@db/airflow"
	_, err := OpenStore(t.Context(), cfg)
	if windsock.ErrorCode(err) != windsock.EINVALID {
		t.Fatalf("OpenStore(mysql) error = %v, want code %s", err, windsock.EINVALID)
	}
}
