package connection

import (
	"testing"

	"github.com/orgsync/orgsync/internal/provider"
)

func TestPoolHandsAllowPrivateAddressesToClients(t *testing.T) {
	p, fp, _ := newTestPool(t)
	mustGet(t, p, "uid-default", baseSettings())
	if fp.last().cfg.AllowPrivateAddresses {
		t.Errorf("a pool built with defaults lets clients reach private addresses")
	}

	allowing := NewPool(provider.Registry{"fake": fp}, PoolOptions{AllowPrivateAddresses: true})
	mustGet(t, allowing, "uid-allowed", baseSettings())
	if !fp.last().cfg.AllowPrivateAddresses {
		t.Errorf("the client was built without AllowPrivateAddresses although the pool allows them")
	}
}
