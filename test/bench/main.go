// Command bench measures orgsync at scale (issue 6): it starts a local control plane, the upstream
// simulator and the real manager binary as its own process, runs the scenarios and prints one table
// of targets, measured figures and PASS or MISS. A MISS is a measurement, not a failure: the exit
// status is non-zero only when the harness itself could not measure.
//
//	go run ./test/bench -assets bin/k8s                 # all scenarios, 10,000 OrgUsers
//	go run ./test/bench -assets bin/k8s -smoke          # 100 OrgUsers, short intervals
//	go run ./test/bench -assets bin/k8s -scenarios 1,3  # a selection
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	var opts options
	flag.IntVar(&opts.users, "users", 0, "OrgUsers of the main population, half per provider (default 10000, or 100 with -smoke)")
	flag.BoolVar(&opts.smoke, "smoke", false, "100 OrgUsers, each scenario once with shortened intervals (about 3 minutes)")
	flag.StringVar(&opts.scenarios, "scenarios", "1,2,3,4,5,6,7,8,9,10,11", "comma-separated scenario numbers to run")
	flag.StringVar(&opts.assets, "assets", os.Getenv("KUBEBUILDER_ASSETS"),
		"directory with kube-apiserver and etcd (make k8s-binaries puts them in bin/k8s)")
	flag.StringVar(&opts.workDir, "workdir", "", "where binaries, kubeconfig and manager logs go (default: a new directory under bin/bench)")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if _, err := run(ctx, opts, os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "bench: %v\n", err)
		os.Exit(1)
	}
}
