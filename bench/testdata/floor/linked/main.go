// Command linked links every package minibox's binary links and runs their package
// initialisers, then says it is up and sleeps, as an idle shim or init would before doing
// anything of its own: the floor of a process of that binary.
package main

import (
	"os"
	"time"

	_ "github.com/minibox/minibox/applets"
)

func main() {
	os.Stdout.Write([]byte("up\n"))
	time.Sleep(time.Hour)
}
