// Command pause is the sandbox ("pause") container of the e2e node: it holds a pod's namespaces and
// does nothing else, until it is told to stop. The node has no registry to pull the usual one from.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	<-stop
}
