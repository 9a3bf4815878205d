// Command demo shows orgsync working on this machine, with nothing else set up: `make demo`.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/orgsync/orgsync/internal/demo"
)

func main() {
	opts := demo.Options{Out: os.Stdout}
	flag.StringVar(&opts.Assets, "assets", "bin/k8s", "Directory with kube-apiserver, etcd and kubectl (make k8s-binaries).")
	flag.StringVar(&opts.CRDDir, "crds", "config/crd/bases", "Directory with the orgsync CRDs.")
	flag.StringVar(&opts.WorkDir, "workdir", "bin/demo", "Directory for the demo's kubeconfig and manager log.")
	flag.BoolVar(&opts.Keep, "keep", false, "Keep the control plane, simulator and manager running until Ctrl-C.")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := demo.Run(ctx, opts); err != nil {
		fmt.Fprintf(os.Stderr, "demo failed: %v\n", err)
		os.Exit(1)
	}
}
