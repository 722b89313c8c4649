// Command minimal is the smallest long-lived Go process: it says it is up, then sleeps.
// BenchmarkFootprint measures it as the floor of any Go monitor on this host.
package main

import (
	"os"
	"time"
)

func main() {
	os.Stdout.Write([]byte("up\n"))
	time.Sleep(time.Hour)
}
