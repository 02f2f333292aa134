package config_test

import (
	"fmt"
	"os"

	"github.com/windsock/windsock/internal/config"
)

func ExampleLoad() {
	home, err := os.MkdirTemp("", "windsock")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(home)
	if err := os.WriteFile(home+"/windsock.cfg", []byte("[core]\nparallelism = 8\n"), 0o600); err != nil {
		panic(err)
	}
	environ := []string{"WINDSOCK_HOME=" + home, "AIRFLOW__CORE__LOAD_EXAMPLES=False"}
	c, err := config.Load("", environ)
	if err != nil {
		panic(err)
	}
	fmt.Println(c.Core.Parallelism, c.Core.LoadExamples, c.Webserver.WebServerPort)
	o, _ := c.Get("core", "load_examples")
	fmt.Println(o.Value, o.Source)
	// Output:
	// 8 false 8080
	// False env
}
