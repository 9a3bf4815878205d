package install

import (
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// psaNamespace enforces the "restricted" Pod Security Standard; the pods of the tests go there.
const psaNamespace = "psa-restricted"

// TestPodSecurityRestricted creates Pods from the manager's pod template (install.yaml and the
// chart) in a namespace that enforces the "restricted" Pod Security Standard: they must be
// admitted. Weakened copies must be rejected, which shows that enforcement is active.
func TestPodSecurityRestricted(t *testing.T) {
	createRestrictedNamespace(t, psaNamespace)
	installDep := onlyDeployment(t, parseDocs(t, readRepoFile(t, "dist/install.yaml")))
	chartDep := onlyDeployment(t, helmTemplate(t, "orgsync", "orgsync-system"))

	t.Run("install.yaml pod template is admitted", func(t *testing.T) {
		checkRestrictedSettings(t, installDep)
		mustAdmit(t, podFromTemplate(installDep, psaNamespace, "install-yaml-manager"))
	})
	t.Run("chart pod template is admitted", func(t *testing.T) {
		checkRestrictedSettings(t, chartDep)
		mustAdmit(t, podFromTemplate(chartDep, psaNamespace, "chart-manager"))
	})
	t.Run("install.yaml namespace enforces restricted and admits the pod", func(t *testing.T) {
		applyInstallYAML(t)
		var ns corev1.Namespace
		if err := k8s.Get(ctxFor(t), client.ObjectKey{Name: installNamespace}, &ns); err != nil {
			t.Fatalf("get namespace %s: %v", installNamespace, err)
		}
		if got := ns.Labels["pod-security.kubernetes.io/enforce"]; got != "restricted" {
			t.Fatalf("namespace %s enforces %q, want restricted", installNamespace, got)
		}
		mustAdmit(t, podFromTemplate(installDep, installNamespace, "install-yaml-manager"))
	})

	weakened := []struct {
		name   string
		weaken func(*corev1.Pod)
	}{
		{"privilege escalation allowed", func(p *corev1.Pod) {
			p.Spec.Containers[0].SecurityContext.AllowPrivilegeEscalation = boolPtr(true)
		}},
		{"capabilities not dropped", func(p *corev1.Pod) {
			p.Spec.Containers[0].SecurityContext.Capabilities = nil
		}},
		{"no seccomp profile", func(p *corev1.Pod) {
			p.Spec.SecurityContext.SeccompProfile = nil
			p.Spec.Containers[0].SecurityContext.SeccompProfile = nil
		}},
		{"may run as root", func(p *corev1.Pod) {
			p.Spec.SecurityContext.RunAsNonRoot = nil
			p.Spec.Containers[0].SecurityContext.RunAsNonRoot = nil
		}},
		{"privileged", func(p *corev1.Pod) {
			// allowPrivilegeEscalation: false contradicts privileged and fails validation first.
			p.Spec.Containers[0].SecurityContext.AllowPrivilegeEscalation = nil
			p.Spec.Containers[0].SecurityContext.Privileged = boolPtr(true)
		}},
	}
	for _, w := range weakened {
		name, weaken := w.name, w.weaken
		t.Run("rejected: "+name, func(t *testing.T) {
			pod := podFromTemplate(installDep, psaNamespace, "weakened-"+strings.ReplaceAll(name, " ", "-"))
			weaken(pod)
			err := k8s.Create(ctxFor(t), pod)
			if err == nil {
				t.Fatalf("a pod with %s was admitted into a namespace enforcing restricted", name)
			}
			if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "violates PodSecurity") {
				t.Fatalf("want a PodSecurity rejection, got %v", err)
			}
		})
	}
}

func mustAdmit(t *testing.T, pod *corev1.Pod) {
	t.Helper()
	if err := k8s.Create(ctxFor(t), pod); err != nil {
		t.Fatalf("pod %s/%s from the manager's template was not admitted: %v", pod.Namespace, pod.GenerateName, err)
	}
}

// checkRestrictedSettings checks the pod template directly: the settings of the restricted
// standard, and readOnlyRootFilesystem, which the standard does not cover.
func checkRestrictedSettings(t *testing.T, dep *appsv1.Deployment) {
	t.Helper()
	spec := dep.Spec.Template.Spec
	psc := spec.SecurityContext
	if psc == nil || !deref(psc.RunAsNonRoot, false) {
		t.Errorf("pod securityContext.runAsNonRoot is not true: %+v", psc)
	}
	if psc == nil || psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("pod securityContext.seccompProfile is not RuntimeDefault: %+v", psc)
	}
	if spec.HostNetwork || spec.HostPID || spec.HostIPC {
		t.Errorf("pod uses host namespaces")
	}
	if len(spec.Volumes) > 0 {
		t.Errorf("pod has volumes %v; the manager needs none", spec.Volumes)
	}
	containers := append(append([]corev1.Container{}, spec.InitContainers...), spec.Containers...)
	for _, c := range containers {
		sc := c.SecurityContext
		if sc == nil {
			t.Errorf("container %s has no securityContext", c.Name)
			continue
		}
		if !deref(sc.ReadOnlyRootFilesystem, false) {
			t.Errorf("container %s: readOnlyRootFilesystem is not true", c.Name)
		}
		if deref(sc.AllowPrivilegeEscalation, true) {
			t.Errorf("container %s: allowPrivilegeEscalation is not false", c.Name)
		}
		if deref(sc.Privileged, false) {
			t.Errorf("container %s is privileged", c.Name)
		}
		if sc.Capabilities == nil || !containsCap(sc.Capabilities.Drop, "ALL") || len(sc.Capabilities.Add) > 0 {
			t.Errorf("container %s: capabilities %+v, want drop ALL and add none", c.Name, sc.Capabilities)
		}
		if sc.RunAsUser != nil && *sc.RunAsUser == 0 {
			t.Errorf("container %s runs as uid 0", c.Name)
		}
	}
}

func containsCap(caps []corev1.Capability, want corev1.Capability) bool {
	for _, c := range caps {
		if c == want {
			return true
		}
	}
	return false
}

func boolPtr(b bool) *bool { return &b }

func deref(b *bool, def bool) bool {
	if b == nil {
		return def
	}
	return *b
}
