// Command minibox is the whole engine in one static binary: daemon, CLI, shim and init.
package main

import (
	"os"

	"github.com/minibox/minibox/applets"
)

func main() { os.Exit(applets.Main(os.Args)) }
