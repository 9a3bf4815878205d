package controller

import (
	"fmt"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	identityv1alpha1 "github.com/orgsync/orgsync/api/v1alpha1"
	"github.com/orgsync/orgsync/internal/provider/flashback"
	"github.com/orgsync/orgsync/internal/provider/mixpeek"
	"github.com/orgsync/orgsync/internal/provider/scim"
)

// Defaults from the API contract, applied when the API server did not default a field (objects
// written before a default existed, or built in Go for tests).
const (
	defaultRefreshInterval   = time.Hour
	defaultTimeout           = 10 * time.Second
	defaultRequestsPerSecond = 5
	defaultBurst             = 10
	defaultSecretKey         = "token"
)

// providerObject is an OrgProvider or a ClusterOrgProvider seen through what they have in common.
type providerObject struct {
	obj             client.Object
	kind            string
	config          *identityv1alpha1.ProviderConfig
	status          *identityv1alpha1.ProviderStatus
	secretNamespace string
	// namespaceSelector is nil for an OrgProvider and for a ClusterOrgProvider open to all namespaces.
	namespaceSelector *metav1.LabelSelector
}

func viewOrgProvider(p *identityv1alpha1.OrgProvider) providerObject {
	return providerObject{obj: p, kind: identityv1alpha1.OrgProviderKind, config: &p.Spec.ProviderConfig,
		status: &p.Status, secretNamespace: p.Namespace}
}

func viewClusterOrgProvider(p *identityv1alpha1.ClusterOrgProvider) providerObject {
	return providerObject{obj: p, kind: identityv1alpha1.ClusterOrgProviderKind, config: &p.Spec.ProviderConfig,
		status: &p.Status, secretNamespace: p.Spec.Auth.SecretRef.Namespace, namespaceSelector: p.Spec.NamespaceSelector}
}

// ownCopy is a deep copy of p to write to: a provider the Connector resolved is the cache's own
// object, shared with every reader.
func (p providerObject) ownCopy() (providerObject, bool) {
	return viewOf(p.obj.DeepCopyObject())
}

// displayName names the object in messages: "OrgProvider team-a/mixpeek-prod".
func (p providerObject) displayName() string {
	if p.obj.GetNamespace() == "" {
		return fmt.Sprintf("%s %s", p.kind, p.obj.GetName())
	}
	return fmt.Sprintf("%s %s/%s", p.kind, p.obj.GetNamespace(), p.obj.GetName())
}

// backend returns the upstream API's name, base URL and provider options (provider.Config.Options:
// nil for mixpeek and flashback, scim.Options for scim), or an error when the spec names none or
// more than one.
func backend(cfg *identityv1alpha1.ProviderConfig) (name, baseURL string, options any, err error) {
	var set []string
	if cfg.Mixpeek != nil {
		set = append(set, mixpeek.Name)
	}
	if cfg.Flashback != nil {
		set = append(set, flashback.Name)
	}
	if cfg.SCIM != nil {
		set = append(set, scim.Name)
	}
	switch {
	case len(set) > 1:
		return "", "", nil, fmt.Errorf("%s are set; exactly one provider block (mixpeek, flashback or scim) is allowed",
			strings.Join(set, " and "))
	case cfg.Mixpeek != nil:
		return mixpeek.Name, orDefault(cfg.Mixpeek.BaseURL, mixpeek.DefaultBaseURL), nil, nil
	case cfg.Flashback != nil:
		return flashback.Name, orDefault(cfg.Flashback.BaseURL, flashback.DefaultBaseURL), nil, nil
	case cfg.SCIM != nil:
		// No default: the client refuses an empty baseURL, which the CRD requires anyway.
		return scim.Name, cfg.SCIM.BaseURL, scimOptions(cfg.SCIM), nil
	default:
		return "", "", nil, fmt.Errorf("no provider block is set; set exactly one of mixpeek, flashback or scim")
	}
}

func refreshIntervalOf(cfg *identityv1alpha1.ProviderConfig) time.Duration {
	return durationOr(cfg.RefreshInterval, defaultRefreshInterval)
}

func timeoutOf(cfg *identityv1alpha1.ProviderConfig) time.Duration {
	return durationOr(cfg.Timeout, defaultTimeout)
}

func rateOf(cfg *identityv1alpha1.ProviderConfig) (rps float64, burst int) {
	rps, burst = defaultRequestsPerSecond, defaultBurst
	if cfg.RateLimit != nil {
		if cfg.RateLimit.RequestsPerSecond > 0 {
			rps = float64(cfg.RateLimit.RequestsPerSecond)
		}
		if cfg.RateLimit.Burst > 0 {
			burst = int(cfg.RateLimit.Burst)
		}
	}
	return rps, burst
}

func secretKeyOf(cfg *identityv1alpha1.ProviderConfig) string {
	return orDefault(cfg.Auth.SecretRef.Key, defaultSecretKey)
}

func durationOr(d *metav1.Duration, fallback time.Duration) time.Duration {
	if d == nil || d.Duration <= 0 {
		return fallback
	}
	return d.Duration
}

func orDefault(s, fallback string) string {
	if s == "" {
		return fallback
	}
	return s
}
