// Command image writes an OCI image of one static binary as a tarball, with no registry, no base
// image and no container engine: one layer holding the binary (and optionally a CA bundle), owned by
// a non-root user, appended to an empty image. `ctr images import`, `kind load image-archive` and
// `docker load` all read the result. `make image` builds the manager's image with it; the e2e suite
// also builds its pause image with it.
package main

import (
	"archive/tar"
	"bytes"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"path"
	"strconv"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

type options struct {
	binary   string
	entry    string
	caBundle string
	tag      string
	out      string
	uid, gid int
	arch     string
}

func main() {
	var o options
	flag.StringVar(&o.binary, "binary", "", "the static binary to put in the image (required)")
	flag.StringVar(&o.entry, "entrypoint", "/manager", "where the binary lands in the image; it is also the entrypoint")
	flag.StringVar(&o.caBundle, "ca-bundle", "", "a PEM bundle to install as /etc/ssl/certs/ca-certificates.crt (empty: none)")
	flag.StringVar(&o.tag, "tag", "orgsync/controller:latest", "the image reference recorded in the tarball")
	flag.StringVar(&o.out, "out", "", "the tarball to write (required)")
	flag.IntVar(&o.uid, "uid", 65532, "the user the image runs as and owns its files")
	flag.IntVar(&o.gid, "gid", 65532, "the group the image runs as")
	flag.StringVar(&o.arch, "arch", "amd64", "the architecture the binary was built for")
	flag.Parse()
	if o.binary == "" || o.out == "" {
		flag.Usage()
		os.Exit(2)
	}
	if err := build(o); err != nil {
		log.Fatalf("image: %v", err)
	}
}

func build(o options) error {
	layerTar, err := layerContents(o)
	if err != nil {
		return err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(layerTar)), nil
	})
	if err != nil {
		return fmt.Errorf("layer: %w", err)
	}
	img, err := mutate.AppendLayers(empty.Image, layer)
	if err != nil {
		return fmt.Errorf("append layer: %w", err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	cfg = cfg.DeepCopy()
	cfg.OS = "linux"
	cfg.Architecture = o.arch
	cfg.Config.Entrypoint = []string{o.entry}
	// Numeric, so a runtime needs no /etc/passwd to resolve it and runAsNonRoot can verify it.
	cfg.Config.User = strconv.Itoa(o.uid) + ":" + strconv.Itoa(o.gid)
	cfg.Config.WorkingDir = "/"
	if o.caBundle != "" {
		cfg.Config.Env = append(cfg.Config.Env, "SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt")
	}
	img, err = mutate.ConfigFile(img, cfg)
	if err != nil {
		return fmt.Errorf("set config: %w", err)
	}
	ref, err := name.NewTag(o.tag)
	if err != nil {
		return fmt.Errorf("tag %q: %w", o.tag, err)
	}
	if err := tarball.WriteToFile(o.out, ref, img); err != nil {
		return fmt.Errorf("write %s: %w", o.out, err)
	}
	digest, err := img.Digest()
	if err != nil {
		return fmt.Errorf("digest: %w", err)
	}
	fmt.Printf("%s %s (%s)\n", o.out, ref.Name(), digest)
	return nil
}

// layerContents is the single layer: the parent directories, the binary and the CA bundle. A fixed
// modification time keeps the digest the same for the same binary.
func layerContents(o options) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	mtime := time.Unix(0, 0)
	dirs := map[string]bool{}
	addDirs := func(p string) error {
		var parents []string
		for d := path.Dir(p); d != "/" && d != "." && !dirs[d]; d = path.Dir(d) {
			parents = append([]string{d}, parents...)
		}
		for _, d := range parents {
			dirs[d] = true
			if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: d[1:] + "/", Mode: 0o755, ModTime: mtime}); err != nil {
				return fmt.Errorf("directory %s: %w", d, err)
			}
		}
		return nil
	}
	addFile := func(p string, data []byte, mode int64) error {
		if err := addDirs(p); err != nil {
			return err
		}
		hdr := &tar.Header{Typeflag: tar.TypeReg, Name: p[1:], Mode: mode, Size: int64(len(data)),
			Uid: o.uid, Gid: o.gid, ModTime: mtime}
		if err := tw.WriteHeader(hdr); err != nil {
			return fmt.Errorf("file %s: %w", p, err)
		}
		if _, err := tw.Write(data); err != nil {
			return fmt.Errorf("file %s: %w", p, err)
		}
		return nil
	}
	bin, err := os.ReadFile(o.binary)
	if err != nil {
		return nil, fmt.Errorf("read binary: %w", err)
	}
	if err := addFile(o.entry, bin, 0o755); err != nil {
		return nil, err
	}
	if o.caBundle != "" {
		ca, err := os.ReadFile(o.caBundle)
		if err != nil {
			return nil, fmt.Errorf("read CA bundle: %w", err)
		}
		if err := addFile("/etc/ssl/certs/ca-certificates.crt", ca, 0o644); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("close layer: %w", err)
	}
	return buf.Bytes(), nil
}
