package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/client-go/kubernetes"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	identityv1alpha1 "github.com/orgsync/orgsync/api/v1alpha1"
	"github.com/orgsync/orgsync/internal/upstreamsim"
)

// Names of what the bench creates.
const (
	benchNamespace     = "bench"
	systemNamespace    = "bench-system" // the Lease and the shared provider's Secret
	unrelatedNamespace = "bench-unrelated"
	mixpeekProvider    = "mixpeek"
	flashbackProvider  = "flashback"
	sharedProvider     = "shared-mixpeek"
	mixpeekToken       = "sk_bench_mixpeek_0123456789"
	flashbackToken     = "sk_bench_flashback_0123456789"
	sharedToken        = "sk_bench_shared_0123456789"
	// writers is how many goroutines create objects and write the plain-client floor.
	writers = 8
)

// env is the running world: control plane, simulator and an admin client.
type env struct {
	cfg        config
	apiEnv     *envtest.Environment
	restConfig *rest.Config
	kubeconfig string
	k8s        client.Client
	clientset  *kubernetes.Clientset
	sim        *upstreamsim.Server
	scheme     *runtime.Scheme
}

func startEnv(cfg config) (*env, error) {
	e := &env{cfg: cfg, scheme: runtime.NewScheme()}
	utilruntime.Must(clientgoscheme.AddToScheme(e.scheme))
	utilruntime.Must(identityv1alpha1.AddToScheme(e.scheme))

	e.apiEnv = &envtest.Environment{
		BinaryAssetsDirectory: cfg.assets,
		CRDDirectoryPaths:     []string{filepath.Join(cfg.repoRoot, "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
	}
	restConfig, err := e.apiEnv.Start()
	if err != nil {
		return nil, fmt.Errorf("start kube-apiserver and etcd from %s: %w", cfg.assets, err)
	}
	// The bench creates tens of thousands of objects; client-side throttling would measure itself.
	restConfig.QPS, restConfig.Burst = -1, 0
	e.restConfig = restConfig
	if err := e.writeKubeconfig(); err != nil {
		e.stop()
		return nil, err
	}
	if e.k8s, err = client.New(restConfig, client.Options{Scheme: e.scheme}); err != nil {
		e.stop()
		return nil, fmt.Errorf("build client: %w", err)
	}
	if e.clientset, err = kubernetes.NewForConfig(restConfig); err != nil {
		e.stop()
		return nil, fmt.Errorf("build clientset: %w", err)
	}

	e.sim = upstreamsim.New()
	if err := e.sim.Start(); err != nil {
		e.stop()
		return nil, fmt.Errorf("start simulator: %w", err)
	}
	e.sim.SetLatency(cfg.latency)
	for _, token := range []string{mixpeekToken, flashbackToken, sharedToken} {
		e.sim.AllowToken(token)
	}
	// Scenario 9's Mixpeek users take the bulk keys after the main population's, so their calls
	// can be counted apart; scenario 11 lists the first cfg.users SCIM users.
	e.sim.SeedBulk(cfg.bulkUsers())
	return e, nil
}

func (e *env) writeKubeconfig() error {
	user, err := e.apiEnv.AddUser(envtest.User{Name: "orgsync-bench", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return fmt.Errorf("add bench user: %w", err)
	}
	kubeconfig, err := user.KubeConfig()
	if err != nil {
		return fmt.Errorf("render kubeconfig: %w", err)
	}
	e.kubeconfig = filepath.Join(e.cfg.workDir, "kubeconfig")
	if err := os.WriteFile(e.kubeconfig, kubeconfig, 0o600); err != nil {
		return fmt.Errorf("write kubeconfig: %w", err)
	}
	return nil
}

func (e *env) stop() {
	if e.sim != nil {
		e.sim.Close()
	}
	_ = e.apiEnv.Stop()
}

// createBase creates the namespaces, the token Secrets and the two OrgProviders of the main
// population, with the given rate limit and refresh interval.
func (e *env) createBase(ctx context.Context, rps, burst int, refresh time.Duration) error {
	objs := make([]client.Object, 0, 8)
	objs = append(objs,
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: benchNamespace}},
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: systemNamespace}},
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: unrelatedNamespace}},
		tokenSecret(benchNamespace, "mixpeek-token", mixpeekToken),
		tokenSecret(benchNamespace, "flashback-token", flashbackToken),
		tokenSecret(systemNamespace, "shared-token", sharedToken),
	)
	for _, name := range []string{mixpeekProvider, flashbackProvider} {
		objs = append(objs, &identityv1alpha1.OrgProvider{
			ObjectMeta: metav1.ObjectMeta{Namespace: benchNamespace, Name: name},
			Spec:       identityv1alpha1.OrgProviderSpec{ProviderConfig: e.providerConfig(name, name+"-token", "", rps, burst, refresh)},
		})
	}
	return e.createAll(ctx, objs...)
}

// createAll creates objs in order.
func (e *env) createAll(ctx context.Context, objs ...client.Object) error {
	for _, obj := range objs {
		if err := e.k8s.Create(ctx, obj); err != nil {
			return fmt.Errorf("create %T %s: %w", obj, obj.GetName(), err)
		}
	}
	return nil
}

// deleteAll deletes objs in order; one already gone is no error.
func (e *env) deleteAll(ctx context.Context, objs ...client.Object) error {
	for _, obj := range objs {
		if err := client.IgnoreNotFound(e.k8s.Delete(ctx, obj)); err != nil {
			return fmt.Errorf("delete %T %s: %w", obj, obj.GetName(), err)
		}
	}
	return nil
}

func tokenSecret(namespace, name, token string) *corev1.Secret {
	return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
		StringData: map[string]string{"token": token}}
}

func (e *env) providerConfig(api, secretName, secretNamespace string, rps, burst int,
	refresh time.Duration) identityv1alpha1.ProviderConfig {
	secretRef := identityv1alpha1.SecretKeyReference{Name: secretName, Namespace: secretNamespace}
	cfg := identityv1alpha1.ProviderConfig{
		Auth:            identityv1alpha1.ProviderAuth{SecretRef: secretRef},
		CABundle:        e.sim.CABundle(),
		RefreshInterval: &metav1.Duration{Duration: refresh},
		RateLimit:       &identityv1alpha1.RateLimit{RequestsPerSecond: int32(rps), Burst: int32(burst)}, //nolint:gosec // small constants
	}
	if api == mixpeekProvider {
		cfg.Mixpeek = &identityv1alpha1.MixpeekProvider{BaseURL: e.sim.URL()}
	} else {
		cfg.Flashback = &identityv1alpha1.FlashbackProvider{BaseURL: e.sim.URL()}
	}
	return cfg
}

// setProviderLimits changes rateLimit and refreshInterval of both main providers.
func (e *env) setProviderLimits(ctx context.Context, rps, burst int, refresh time.Duration) error {
	for _, name := range []string{mixpeekProvider, flashbackProvider} {
		p := &identityv1alpha1.OrgProvider{}
		if err := e.k8s.Get(ctx, client.ObjectKey{Namespace: benchNamespace, Name: name}, p); err != nil {
			return fmt.Errorf("get OrgProvider %s: %w", name, err)
		}
		patch := client.MergeFrom(p.DeepCopy())
		p.Spec.RateLimit = &identityv1alpha1.RateLimit{RequestsPerSecond: int32(rps), Burst: int32(burst)} //nolint:gosec // small constants
		p.Spec.RefreshInterval = &metav1.Duration{Duration: refresh}
		if err := e.k8s.Patch(ctx, p, patch); err != nil {
			return fmt.Errorf("update OrgProvider %s: %w", name, err)
		}
	}
	return nil
}

// mainUserName is the OrgUser of the i-th bulk user of a provider.
func mainUserName(provider string, i int) string {
	if provider == mixpeekProvider {
		return fmt.Sprintf("mp-%05d", i)
	}
	return fmt.Sprintf("fb-%05d", i)
}

// createMainUsers creates the main population: per provider, one OrgUser per bulk user.
func (e *env) createMainUsers(ctx context.Context) error {
	n := e.cfg.perProvider()
	return parallel(ctx, 2*n, func(ctx context.Context, i int) error {
		provider, index, key := mixpeekProvider, i, upstreamsim.BulkMixpeekKey(i)
		if i >= n {
			provider, index, key = flashbackProvider, i-n, upstreamsim.BulkFlashbackKey(i-n)
		}
		return e.createUser(ctx, benchNamespace, mainUserName(provider, index), identityv1alpha1.OrgProviderKind, provider, key)
	})
}

func (e *env) createUser(ctx context.Context, namespace, name, kind, provider, key string) error {
	u := &identityv1alpha1.OrgUser{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
		Spec: identityv1alpha1.OrgUserSpec{
			ProviderRef: identityv1alpha1.ProviderReference{Kind: kind, Name: provider},
			Key:         key,
		},
	}
	if err := e.k8s.Create(ctx, u); err != nil {
		return fmt.Errorf("create OrgUser %s/%s: %w", namespace, name, err)
	}
	return nil
}

// createUnrelatedSecrets fills the cluster with Secrets the manager has no business reading.
func (e *env) createUnrelatedSecrets(ctx context.Context) error {
	payload := make([]byte, e.cfg.secretBytes)
	for i := range payload {
		payload[i] = byte('a' + i%26)
	}
	return parallel(ctx, e.cfg.unrelatedSecrets, func(ctx context.Context, i int) error {
		s := &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: unrelatedNamespace, Name: fmt.Sprintf("unrelated-%05d", i)},
			Data:       map[string][]byte{"payload": payload},
		}
		if err := e.k8s.Create(ctx, s); err != nil {
			return fmt.Errorf("create Secret %s: %w", s.Name, err)
		}
		return nil
	})
}

// parallel runs fn for 0..n-1 on a fixed number of goroutines and returns the first error.
func parallel(ctx context.Context, n int, fn func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	next := make(chan int)
	var wg sync.WaitGroup
	for range writers {
		wg.Go(func() {
			for i := range next {
				if err := fn(ctx, i); err != nil {
					cancel(err)
				}
			}
		})
	}
feed:
	for i := range n {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	return context.Cause(ctx)
}
