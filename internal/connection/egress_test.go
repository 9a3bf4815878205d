package connection

import "testing"

func TestPoolHandsAllowPrivateAddressesToClients(t *testing.T) {
	p, fp, _ := newTestPool(t)
	mustGet(t, p, "uid-default", baseSettings())
	if fp.last().cfg.AllowPrivateAddresses {
		t.Errorf("a pool built with defaults lets clients reach private addresses")
	}
	p.AllowPrivateAddresses(true)
	mustGet(t, p, "uid-allowed", baseSettings())
	if !fp.last().cfg.AllowPrivateAddresses {
		t.Errorf("the client was built without AllowPrivateAddresses after the pool allowed them")
	}
}
