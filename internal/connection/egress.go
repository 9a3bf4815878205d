package connection

// AllowPrivateAddresses lets every client the pool builds from now on connect to loopback and
// private addresses (--allow-private-addresses: a simulator or an in-cluster upstream). Call it
// before the pool is used; link-local and cloud metadata addresses stay refused regardless.
func (p *Pool) AllowPrivateAddresses(allow bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.allowPrivateAddresses = allow
}
