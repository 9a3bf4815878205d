// Command upstreamsim serves the simulated Mixpeek and Flashback APIs over HTTPS for the demo:
// point an OrgProvider's baseURL at the printed URL, its caBundle at the CA file and its Secret at
// the printed token.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/orgsync/orgsync/internal/upstreamsim"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8443", "address to serve HTTPS on")
	caFile := flag.String("ca-file", "upstreamsim-ca.pem", "file to write the CA certificate (PEM) to")
	seedDemo := flag.Bool("seed-demo", true, "register the demo token and demo users")
	flag.Parse()

	if err := run(*addr, *caFile, *seedDemo); err != nil {
		log.Fatalf("upstreamsim: %v", err)
	}
}

func run(addr, caFile string, seedDemo bool) error {
	server := upstreamsim.New()
	token := ""
	if seedDemo {
		token = upstreamsim.SeedDemo(server)
	}

	caPath, err := filepath.Abs(caFile)
	if err != nil {
		return err
	}
	// The CA certificate is public; only the server's keys, which never leave memory, are secret.
	if err := os.WriteFile(caPath, server.CABundle(), 0o644); err != nil {
		return fmt.Errorf("write CA file: %w", err)
	}
	if err := server.StartOn(addr); err != nil {
		return err
	}
	defer server.Close()

	fmt.Printf("url:     %s\n", server.URL())
	fmt.Printf("ca-file: %s\n", caPath)
	if seedDemo {
		fmt.Printf("token:   %s\n", token)
		fmt.Println("users:")
		for _, user := range upstreamsim.DemoUsers() {
			fmt.Printf("  %-9s %-38s role=%-7s state=%s\n", user.Provider, user.Key, user.Role, user.State)
		}
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	return nil
}
