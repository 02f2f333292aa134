package secrets_test

import (
	"fmt"

	"github.com/windsock/windsock/internal/secrets"
)

func ExampleParseURI() {
	c, err := secrets.ParseURI("warehouse", "postgresql://etl:p%40ss@db.example.com:5432/dwh?sslmode=require")
	if err != nil {
		panic(err)
	}
	fmt.Println(c.ConnType, c.Login, c.Password, c.Host, c.Port, c.Schema, c.Extra)
	fmt.Println(c.URI())
	// Output:
	// postgres etl p@ss db.example.com 5432 dwh {"sslmode":"require"}
	// postgres://etl:p%40ss@db.example.com:5432/dwh?sslmode=require
}
